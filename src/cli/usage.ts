// The help texts: `knockwatch --help` lists every command, `knockwatch COMMAND --help` shows
// one with its options. Both are built from the same entries, so they cannot disagree.

interface CommandHelp {
  synopsis: string;
  about: string;
  // [flags, meaning]: the meaning given here, or the shared one from OPTION_HELP when omitted.
  options: readonly (readonly [string, string?])[];
}

const OPTION_HELP: Record<string, string> = {
  '-c, --config FILE': 'config file (default /etc/knockwatch/knockwatch.ini)',
  '-l, --log PATH': 'kernel log file to follow (default: kernel_source of the config)',
  '--auth-log PATH': "sshd's log file (default: auth_source of the config): logouts close,\nfailed logins revoke and ban",
  '--firewall KIND': 'nftables | iptables | command | dry-run (overrides the config)',
  '--state-file PATH': 'grants and log positions across restarts',
  '--filter NAME': 'parse: netfilter (default), sshd, or the path of a .conf filter',
  '--record FILE': 'with the dry-run firewall, append +ADDR/-ADDR lines to FILE',
  '--force': 'init: replace an existing file',
  '--timeout SECONDS': 'try: how long to wait for the proof (default 120)',
  '--control-socket PATH': "the running daemon's socket (default: control_socket of the\nconfig, else /run/knockwatch/control.sock)",
  '-v, --verbose': 'also print every step, retransmission and refusal',
  '--json': 'one JSON object per line instead of text',
  '--timezone ZONE': "IANA zone for log stamps without one (default: the config's, else local)",
  '--delay SECONDS': 'knock: pause between steps (default 0.2; 300ms also reads)',
  '-d, --delay-ms MS': "knock: the pause in milliseconds (knockd's -d)",
  '-u, --udp': 'knock: PORT arguments without :tcp are UDP',
  '-4, --ipv4': 'knock: resolve and knock HOST over IPv4',
  '-6, --ipv6': 'knock: resolve and knock HOST over IPv6',
  '--source ADDR': "knock: send from this local address; behind NAT, the public address\na bind_source door derives its sequence for",
  '--connect PORT': 'knock: then connect to HOST:PORT and pipe stdin/stdout through it',
  '--wait SECONDS': 'knock: how long --connect keeps trying (default 5)',
};

const DAEMON_OPTIONS = [['-c, --config FILE'], ['-l, --log PATH'], ['--auth-log PATH'], ['--firewall KIND'], ['--state-file PATH'],
  ['--record FILE'], ['-v, --verbose', 'also log every step, retransmission and refusal']] as const;
const CONTROL_OPTIONS = [['--control-socket PATH'], ['-c, --config FILE', 'the config whose control_socket to use']] as const;

export const COMMANDS: ReadonlyMap<string, CommandHelp> = new Map([
  ['run', {
    synopsis: 'knockwatch [run] [--config FILE] [--log PATH] [--auth-log PATH] [--firewall KIND] [--state-file PATH]',
    about: `Follow the kernel log and open the firewall for addresses that knock correctly.
Runs in the foreground (systemd: systemd/knockwatch.service). SIGHUP reloads the
config (a bad one is refused and the old kept); SIGTERM stops.`,
    options: DAEMON_OPTIONS,
  }],
  ['try', {
    synopsis: 'knockwatch try [--config FILE] [--timeout SECONDS] [--log PATH] [--auth-log PATH]',
    about: `For an admin logged in over SSH, like iptables-apply: installs the ruleset and runs
the daemon in the foreground; keeps both only when a NEW SSH login through the door
is seen in the auth log (or you type yes). On timeout (default 120 s), Ctrl-C or a
lost terminal it removes everything it installed.`,
    options: [['--timeout SECONDS', 'how long to wait for the proof (default 120)'], ...DAEMON_OPTIONS],
  }],
  ['init', {
    synopsis: 'knockwatch init [--config FILE] [--force]',
    about: 'Write a commented starter config (default /etc/knockwatch/knockwatch.ini).',
    options: [['-c, --config FILE', 'where to write it (default /etc/knockwatch/knockwatch.ini)'], ['--force', 'replace an existing file']],
  }],
  ['flush', {
    synopsis: 'knockwatch flush',
    about: `Remove knockwatch's own firewall state (table inet knockwatch, chain KNOCKWATCH)
and nothing else.`,
    options: [],
  }],
  ['replay', {
    synopsis: 'knockwatch replay FILE... [--auth-log FILE]... [--config FILE] [-v] [--json] [--timezone ZONE]',
    about: `Run logs through the pipeline with the dry-run firewall and print each decision
(OPEN, EXTEND, CLOSE, EXPIRE, BROKEN with its reason) and a summary. FILE may be
.gz or - for standard input; several files are read in order. --auth-log adds sshd's
log, merged by time (logins, logouts, failed logins). Without --config the demo config
in logs-samples/ is used (and named on stderr).`,
    options: [['--auth-log FILE', "sshd's log, merged by time; may be given more than once"],
      ['-c, --config FILE', 'config file (default: the demo config in logs-samples/)'], ['-v, --verbose'], ['--json'], ['--timezone ZONE']],
  }],
  ['parse', {
    synopsis: 'knockwatch parse FILE [--filter netfilter|PATH.conf] [--json] [--timezone ZONE]',
    about: 'Show how a filter reads a log: lines matched, missed, ignored, invalid, and the events.',
    options: [['--filter NAME', 'netfilter (default), sshd, or the path of a .conf filter'], ['--json'], ['--timezone ZONE']],
  }],
  ['check', {
    synopsis: 'knockwatch check [--config FILE] [--firewall KIND] [--log PATH] [--auth-log PATH] [--show-secrets]',
    about: `Validate a config (knockwatch.ini or knockd.conf), print the normalized doors and the
exact firewall ruleset knockwatch would install, without applying it; then make the
checks run makes before it changes anything (logs readable, firewall usable).`,
    options: [['-c, --config FILE'], ['--firewall KIND'], ['-l, --log PATH'], ['--auth-log PATH'],
      ['--show-secrets', "also print rotating doors' current and next sequences (never by default)"]],
  }],
  ['status', {
    synopsis: 'knockwatch status [--json] [-v] [--control-socket PATH]',
    about: `Ask the running daemon: its firewall and when it last verified it, the sources and
their positions, live grants, bans, attempts in progress per door and counters since
start. With no daemon running it says so and exits 1.`,
    options: [['--json', 'the answer as one JSON object'], ['-v, --verbose', 'also the sources of the attempts in progress'], ...CONTROL_OPTIONS],
  }],
  ['unban', {
    synopsis: 'knockwatch unban ADDR [--control-socket PATH]',
    about: 'Lift the ban of ADDR in the running daemon and its state file.',
    options: CONTROL_OPTIONS,
  }],
  ['close', {
    synopsis: 'knockwatch close ADDR [DOOR] [--control-socket PATH]',
    about: "Close ADDR's grants in the running daemon and its state file (only DOOR's when given).",
    options: CONTROL_OPTIONS,
  }],
  ['knock', {
    synopsis: 'knockwatch knock HOST [DOOR | STEP...] [-u] [-d MS] [-4|-6] [--source ADDR] [--connect PORT]',
    about: `Knock from a client: each TCP step is one SYN (a connect that is never completed),
each UDP step one datagram, in order. HOST and DOOR come from the client config
([HOST] and [HOST DOOR] sections), or HOST is a name or address and the ports are
given as knockd's knock takes them: STEP is PORT[:tcp|udp] or icmp:N (an echo request N
bytes long, sent with ping). With --connect, then connect to HOST:PORT and
pipe stdin and stdout through it, for ssh:
  ssh -o ProxyCommand='knockwatch knock %h openSSH --connect %p' myhost
Exit 1 if that port did not open within --wait.`,
    options: [['-c, --config FILE', 'the client config (default ~/.config/knockwatch/client.ini)'],
      ...['-u, --udp', '--delay SECONDS', '-d, --delay-ms MS', '-4, --ipv4', '-6, --ipv6', '--source ADDR', '--connect PORT', '--wait SECONDS']
        .map((flags) => [flags, OPTION_HELP[flags]?.replace(/^knock: /, '')] as const),
      ['-v, --verbose', 'say each step sent']],
  }],
]);

const EXIT_STATUS = 'Exit status: 0 ok, 1 runtime failure, 2 usage or config error.\n';

export const USAGE = `knockwatch: port knocking from the kernel log

Usage:
${[...COMMANDS.values()].map((help) => `  ${help.synopsis}\n${indent(help.about, 6)}\n`).join('')}
Options:
${formatOptions([...Object.keys(OPTION_HELP).map((flags) => [flags] as const), ['-h, --help', 'this text'], ['-V, --version', 'the version']])}
Each command has its own help: knockwatch COMMAND --help.

${EXIT_STATUS}`;

// The help of one command, or undefined for a name that is no command.
export function commandHelp(name: string): string | undefined {
  const help = COMMANDS.get(name);
  if (help === undefined) return undefined;
  const options = formatOptions([...help.options, ['-h, --help', 'this text']]);
  return `Usage: ${help.synopsis}\n\n${indent(help.about, 2)}\n\nOptions:\n${options}\n${EXIT_STATUS}`;
}

// Short flags in one column, long-only ones aligned after them, meanings in another.
function formatOptions(options: readonly (readonly [string, string?])[]): string {
  const lefts = options.map(([flags]) => `${flags.startsWith('--') ? '      ' : '  '}${flags}`);
  const width = Math.max(24, ...lefts.map((left) => left.length + 2));
  return options.map(([flags, meaning], index) => {
    const [first = '', ...rest] = (meaning ?? OPTION_HELP[flags] ?? '').split('\n');
    return [`${(lefts[index] ?? '').padEnd(width)}${first}`, ...rest.map((text) => `${' '.repeat(width)}${text}`)].join('\n') + '\n';
  }).join('');
}

function indent(text: string, width: number): string {
  return text.split('\n').map((textLine) => `${' '.repeat(width)}${textLine}`).join('\n');
}
