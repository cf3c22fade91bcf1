import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-cli-habits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'kern.log'), '');

const INI = `[options]
whitelist = 192.0.2.10
[openSSH]
sequence = 7000,8000,9000:udp
seq_timeout = 5
trap_adjacent = yes
close_on_wrong_knock = yes
max_connections = 2
[web]
sequence = 6999
open = 443/tcp
`;

describe('knockwatch check: close_on_wrong_knock, trap_adjacent, max_connections', () => {
  it('prints each door\'s habits, the trap ports trap_adjacent adds and the neighbours it leaves out', async () => {
    const path = join(dir, 'check.ini');
    writeFileSync(path, INI);
    const result = await cli('check', '--config', path, '--log', join(dir, 'kern.log'), '--firewall', 'dry-run');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines.filter((line) => /^ {2}(trap_ports|trap_adjacent|close_on_wrong_knock|max_connections) |^ {21}not /.test(line))).toEqual([
      '  trap_ports         7001/tcp, 7999/tcp, 8001/tcp, 8999/udp, 9001/udp (refused for 5m)',
      '  close_on_wrong_knock yes (a granted address knocking a port of this door out of sequence closes its grant)',
      '  max_connections    2 concurrent new connections per granted address',
      '  trap_adjacent      7001/tcp, 7999/tcp, 8001/tcp, 8999/udp, 9001/udp',
      '                     not 6999/tcp: a step of [web]',
    ]);
  });
});
