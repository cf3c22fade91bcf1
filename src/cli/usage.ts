export const USAGE = `knockwatch: port knocking from the kernel log

Usage:
  knockwatch [run] [--config FILE] [--log PATH] [--auth-log PATH] [--firewall KIND] [--state-file PATH]
      Follow the kernel log and open the firewall for addresses that knock correctly.
      Runs in the foreground (systemd: systemd/knockwatch.service). SIGHUP reloads the
      config (a bad one is refused and the old kept); SIGTERM stops.
  knockwatch try [--config FILE] [--timeout SECONDS] [--log PATH] [--auth-log PATH]
      For an admin logged in over SSH, like iptables-apply: installs the ruleset and runs
      the daemon in the foreground; keeps both only when a NEW SSH login through the door
      is seen in the auth log (or you type yes). On timeout (default 120 s), Ctrl-C or a
      lost terminal it removes everything it installed.
  knockwatch status [--json] [-v] [--config FILE | --control-socket PATH]
      Ask the running daemon: firewall health, logs and positions, live grants, bans,
      attempts in progress (-v: by which addresses) and counters since start.
  knockwatch unban ADDR [--config FILE | --control-socket PATH]
  knockwatch close ADDR [DOOR] [--config FILE | --control-socket PATH]
      Lift ADDR's ban, or close its grant on DOOR (every door when none is given), in the
      running daemon and its state file. These three need root.
  knockwatch init [--config FILE] [--force]
      Write a commented starter config (default /etc/knockwatch/knockwatch.ini).
  knockwatch flush
      Remove knockwatch's own firewall state (table inet knockwatch, chain KNOCKWATCH)
      and nothing else.
  knockwatch replay FILE... [--auth-log FILE]... [--config FILE] [-v] [--json] [--timezone ZONE]
      Run logs through the pipeline with the dry-run firewall and print each decision
      (OPEN, EXTEND, CLOSE, EXPIRE, BROKEN with its reason) and a summary. FILE may be
      .gz or - for standard input; several files are read in order. --auth-log adds sshd's
      log, merged by time (logins, logouts, failed logins). Without --config the demo config
      in logs-samples/ is used.
  knockwatch parse FILE [--filter netfilter|PATH.conf] [--json] [--timezone ZONE]
      Show how a filter reads a log: lines matched, missed, ignored, invalid, and the events.
  knockwatch check [--config FILE] [--firewall KIND] [--log PATH] [--auth-log PATH]
      Validate a config (knockwatch.ini or knockd.conf), print the normalized doors and the
      exact firewall ruleset knockwatch would install, without applying it; then make the
      checks run makes before it changes anything (logs readable, firewall usable).

Options:
  -c, --config FILE     config file (default /etc/knockwatch/knockwatch.ini)
  -l, --log PATH        kernel log to follow (default: kern_log of the config)
      --auth-log PATH   sshd's log (default: auth_log of the config): logouts close,
                        failed logins revoke and ban
      --firewall KIND   nftables | iptables | command | dry-run (overrides the config)
      --state-file PATH grants and log positions across restarts
      --record FILE     with the dry-run firewall, append +ADDR/-ADDR lines to FILE
      --force           init: replace an existing file
      --timeout SECONDS try: how long to wait for the proof (default 120)
      --control-socket PATH  status, unban, close: the daemon's socket (default: control_socket
                        of the config, else /run/knockwatch/control.sock)
  -v, --verbose         also print every step, retransmission and refusal
      --json            one JSON object per line instead of text
      --timezone ZONE   IANA zone for log stamps without one (default: the config's, else local)
  -h, --help            this text
  -V, --version         the version

Exit status: 0 ok, 1 runtime failure, 2 usage or config error.
`;
