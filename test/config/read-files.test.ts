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
