import { describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig, type ReadTextFile } from '../../src/config/load-config.js';
import { ConfigError, formatProblem } from '../../src/config/problems.js';

// Files that exist only for the reader the test gives: nothing here touches the disk.
function fakeFiles(files: Record<string, string>): { read: ReadTextFile; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    read: (path) => {
      asked.push(path);
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return text;
    },
  };
}

const CONFIG = '[options]\nfirewall = dry-run\n[otp]\none_time_sequences = otp.txt\n';

describe('the files config reads go through the reader it is given', () => {
  it('reads one_time_sequences next to the config through it', () => {
    const files = fakeFiles({ '/etc/kw/otp.txt': '# used in order\n7000,8000:udp\n\n9000,9100\n' });
    const config = parseConfig(CONFIG, '/etc/kw/knockwatch.ini', undefined, files.read);
    expect(files.asked).toEqual(['/etc/kw/otp.txt']);
    expect(config.doors[0]?.knock).toEqual({ kind: 'one-time', sequences: [
      [{ port: 7000, proto: 'tcp' }, { port: 8000, proto: 'udp' }],
      [{ port: 9000, proto: 'tcp' }, { port: 9100, proto: 'tcp' }],
    ], file: '/etc/kw/otp.txt' });
  });

  it('reads the config file itself and its sequences through it', () => {
    const files = fakeFiles({ '/virtual/knockwatch.ini': CONFIG, '/virtual/otp.txt': '7000,8000\n' });
    const config = loadConfigFile('/virtual/knockwatch.ini', undefined, files.read);
    expect(files.asked).toEqual(['/virtual/knockwatch.ini', '/virtual/otp.txt']);
    expect(config.doors[0]?.knock).toEqual({ kind: 'one-time', sequences: [[{ port: 7000, proto: 'tcp' }, { port: 8000, proto: 'tcp' }]], file: '/virtual/otp.txt' });
  });

  it('reports a sequence file the reader cannot read as a config problem', () => {
    const files = fakeFiles({});
    let problems: string[] = [];
    try {
      parseConfig(CONFIG, '/etc/kw/knockwatch.ini', undefined, files.read);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems.map(formatProblem);
    }
    expect(problems).toEqual(['/etc/kw/knockwatch.ini [otp] one_time_sequences: expected a readable file of sequences, one per line, found "/etc/kw/otp.txt: ENOENT"']);
  });
});

// A one-time line is a secret (as a rotating door's secret is): a line the file cannot use is
// named by its file, line and step, and nothing of its text reaches the error, the log or
// `check`'s output. Before, the whole line (or its step) was quoted.
describe('a one_time_sequences line that cannot be used', () => {
  const NOTE = 'on line 2 of /etc/kw/otp.txt (the line is not shown: one-time sequences are secret)';
  it.each([
    ['an empty last step', '41873,52961,', `expected a comma-separated list of ports (port:tcp or port:udp) ${NOTE}, found "an empty step 3"`],
    ['an empty step between two', '41873,,52961', `expected a comma-separated list of ports (port:tcp or port:udp) ${NOTE}, found "an empty step 2"`],
    ['a port out of range', '41873,529610', `expected a port (1-65535) at step 2 ${NOTE}, found "something else"`],
    ['a protocol neither tcp nor udp', '41873:udp,52961:sctp', `expected tcp or udp after the port at step 2 ${NOTE}, found "something else"`],
    ['an echo request too short', '41873,icmp:7', `expected an echo request's IP packet length after "icmp:" (28-65535; IPv6 needs 48 or more) at step 2 ${NOTE}, found "something else"`],
  ])('%s', (_what, line, problem) => {
    const files = fakeFiles({ '/etc/kw/otp.txt': `7000,8000\n${line}\n` });
    let error: unknown;
    try {
      parseConfig(CONFIG, '/etc/kw/knockwatch.ini', undefined, files.read);
    } catch (thrown) {
      error = thrown;
    }
    if (!(error instanceof ConfigError)) throw new Error('expected a ConfigError');
    expect(error.problems.map(formatProblem)).toEqual([`/etc/kw/knockwatch.ini [otp] one_time_sequences: ${problem}`]);
    // Not the line, not any of its numbers: everything the error carries, as JSON.
    const carried = `${error.message}\n${JSON.stringify(error.problems)}`;
    for (const secret of [line, ...line.split(/[,:]/).filter((part) => /\d/.test(part))]) expect(carried).not.toContain(secret);
  });
});
