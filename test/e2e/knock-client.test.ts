import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { Lab, useLab } from './helpers/lab.js';

// `knockwatch knock` from the client namespace against a real daemon with nftables that reads
// the knocks from /dev/kmsg: a static door of the client config opens, and --connect 22 then
// pipes the lab's listener on 22 to stdout, as ssh's ProxyCommand would get it.
const missing = missingPrerequisites(['ip', 'nft'], true);
explainSkip('end-to-end knock client tests', missing);

const SUBNET = 211;

describe.skipIf(missing.length > 0)('knockwatch knock against a real daemon (nftables, kmsg)', () => {
  const lab = new Lab({ name: 'kwe2e-knk', subnet: SUBNET, rsyslog: false });
  const clientConfig = join(lab.dir, 'client.ini');
  useLab(lab, () => {
    writeFileSync(clientConfig, `[gate]
address = ${lab.serverAddressFor(lab.client)}
[gate openSSH]
sequence = 7000,8000:udp,9000
`);
    return `[options]
firewall = nftables
auth_source = none
[openSSH]
sequence = 7000,8000:udp,9000
seq_timeout = 5
open = 22/tcp
open_for = 60
`;
  });

  // `knockwatch knock ARGS` run in a namespace, stdin empty (as ssh would close it).
  function knock(from: string, args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
    const result = spawnSync('ip', ['netns', 'exec', from, process.execPath, lab.bin, 'knock', ...args], { encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  it('reads the knocks from kmsg', () => {
    expect(lab.daemonLog).toContain('reading kernel: kmsg (auto)');
  });

  it('a wrong sequence opens nothing: --connect gives up after --wait with exit 1 and nothing on stdout', () => {
    const result = knock(lab.admin, [lab.serverAddressFor(lab.admin), '7000', '9000', '8000:udp', '--connect', '22', '--wait', '1']);
    expect(result).toEqual({ code: 1, stdout: '', stderr: `knockwatch knock: ${lab.serverAddressFor(lab.admin)} port 22 did not open within 1 s.\n` });
    expect(lab.daemonLog).not.toContain(`Opened 22/tcp for ${lab.adminAddress}`);
  });

  it('knocks the client config\'s door, then --connect 22 pipes the listener through the opened port', async () => {
    expect(lab.canConnect(lab.client)).toBe(false);
    const server = lab.serverAddressFor(lab.client);
    const result = knock(lab.client, ['gate', 'openSSH', '--config', clientConfig, '--source', lab.clientAddress, '--connect', '22', '-v']);
    expect(result).toEqual({
      code: 0,
      // the listener's greeting, and nothing else
      stdout: 'hello\n',
      stderr: `Knocked ${server} 7000/tcp.\nKnocked ${server} 8000/udp.\nKnocked ${server} 9000/tcp.\nConnected to ${server} port 22.\n`,
    });
    await lab.waitForGrant(lab.clientAddress);
    expect(lab.inServer(['nft', 'list', 'table', 'inet', 'knockwatch'])).toContain(lab.clientAddress);
  });
});
