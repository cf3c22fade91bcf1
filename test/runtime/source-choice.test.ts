import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import type { SourceChoice } from '../../src/config/types.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { createBackend } from '../../src/firewall/select-backend.js';
import { preflight } from '../../src/runtime/preflight.js';
import { chooseSources, fileSourceWarning, type SourceOverrides, type SourceProbes } from '../../src/runtime/source-choice.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const kernLog = join(dir, 'kern.log');
writeFileSync(kernLog, '');

// A machine described by what its probes answer.
// `journalSshd`: the journal with sshd entries, true for the system journal or a directory.
function machine(has: { kmsg?: string; journalSshd?: boolean | string; journalctl?: boolean; authLog?: boolean; journalUnreadable?: string } = {}): SourceProbes {
  return {
    kmsgReadable: () => has.kmsg,
    journalHasSshd: async (directory) => (typeof has.journalSshd === 'string' ? directory === has.journalSshd : (has.journalSshd ?? false) && directory === undefined),
    journalctlPath: () => (has.journalctl ?? true ? '/usr/bin/journalctl' : undefined),
    journalUnreadable: async () => has.journalUnreadable,
    fileExists: (path) => path === '/var/log/auth.log' && (has.authLog ?? false),
  };
}

const AUTO: SourceChoice = { kind: 'auto' };

function chooseFor(kernelSource: SourceChoice, authSource: SourceChoice, overrides: SourceOverrides, probes: SourceProbes, journalDirectory?: string): ReturnType<typeof chooseSources> {
  return chooseSources({ kernelSource, authSource, journalDirectory }, overrides, probes);
}

describe('chooseSources', () => {
  it.each<[string, SourceChoice, SourceChoice, SourceOverrides, SourceProbes, string[], string[], string?]>([
    // fresh Debian: kmsg for knocks, the journal for sshd
    ['auto, journal with sshd', AUTO, AUTO, {}, machine({ journalSshd: true }), ['kmsg', 'journal:sshd'], ['kernel: kmsg (auto)', 'sshd: journal (auto: it has sshd entries)']],
    // rsyslog's auth.log when the journal has nothing of sshd
    ['auto, auth.log', AUTO, AUTO, {}, machine({ authLog: true }), ['kmsg', '/var/log/auth.log'], ['kernel: kmsg (auto)', 'sshd: file:/var/log/auth.log (auto: no sshd entries in the journal)']],
    // a journal with sshd entries but no journalctl to read it
    ['auto, no journalctl', AUTO, AUTO, {}, machine({ journalSshd: true, journalctl: false }), ['kmsg'], ['kernel: kmsg (auto)', 'sshd: none (auto: no sshd entries in the journal, no /var/log/auth.log)']],
    ['auto, nothing of sshd', AUTO, AUTO, {}, machine(), ['kmsg'], ['kernel: kmsg (auto)', 'sshd: none (auto: no sshd entries in the journal, no /var/log/auth.log)']],
    // given choices are taken as they are, whatever the machine has
    ['journal for both', { kind: 'journal' }, { kind: 'journal' }, {}, machine(), ['journal:kernel', 'journal:sshd'], ['kernel: journal', 'sshd: journal']],
    ['files', { kind: 'file', path: '/k' }, { kind: 'file', path: '/a' }, {}, machine({ journalSshd: true }), ['/k', '/a'], ['kernel: file:/k', 'sshd: file:/a']],
    ['sshd none', { kind: 'kmsg' }, { kind: 'none' }, {}, machine({ journalSshd: true }), ['kmsg'], ['kernel: kmsg', 'sshd: none (sshd features are off)']],
    // --log and --auth-log win over the config
    ['flags', { kind: 'kmsg' }, { kind: 'journal' }, { kernLog: '/k', authLog: '/a' }, machine(), ['/k', '/a'], ['kernel: file:/k (--log)', 'sshd: file:/a (--auth-log)']],
    // journal_directory: auto asks that journal, not the system's, and the summary names it
    ['auto, sshd in the journal directory', AUTO, AUTO, {}, machine({ journalSshd: '/srv/j' }), ['kmsg', 'journal:sshd'], ['kernel: kmsg (auto)', 'sshd: journal in /srv/j (auto: it has sshd entries)'], '/srv/j'],
    ['auto, sshd only in the system journal', AUTO, AUTO, {}, machine({ journalSshd: true }), ['kmsg'], ['kernel: kmsg (auto)', 'sshd: none (auto: no sshd entries in the journal in /srv/j, no /var/log/auth.log)'], '/srv/j'],
    ['auto, auth.log after the journal directory', AUTO, AUTO, {}, machine({ authLog: true }), ['kmsg', '/var/log/auth.log'], ['kernel: kmsg (auto)', 'sshd: file:/var/log/auth.log (auto: no sshd entries in the journal in /srv/j)'], '/srv/j'],
    ['journal directory for both', { kind: 'journal' }, { kind: 'journal' }, {}, machine(), ['journal:kernel', 'journal:sshd'], ['kernel: journal in /srv/j', 'sshd: journal in /srv/j'], '/srv/j'],
  ])('%s', async (_name, kernel, auth, overrides, probes, names, reasons, directory) => {
    const selection = await chooseFor(kernel, auth, overrides, probes, directory);
    expect(selection.specs.map((spec) => spec.name)).toEqual(names);
    expect(selection.reasons).toEqual(reasons);
  });

  it('makes specs of the right kind for each role', async () => {
    const selection = await chooseFor(AUTO, { kind: 'file', path: '/a' }, {}, machine());
    expect(selection.specs).toEqual([{ kind: 'kmsg', name: 'kmsg', lines: 'knocks' }, { kind: 'file', name: '/a', lines: 'auth' }]);
    expect((await chooseFor({ kind: 'journal' }, AUTO, {}, machine({ journalSshd: true }))).specs)
      .toEqual([{ kind: 'journal', name: 'journal:kernel', lines: 'knocks', directory: undefined }, { kind: 'journal', name: 'journal:sshd', lines: 'auth', directory: undefined }]);
    expect((await chooseFor({ kind: 'journal' }, AUTO, {}, machine({ journalSshd: '/srv/j' }), '/srv/j')).specs)
      .toEqual([{ kind: 'journal', name: 'journal:kernel', lines: 'knocks', directory: '/srv/j' }, { kind: 'journal', name: 'journal:sshd', lines: 'auth', directory: '/srv/j' }]);
  });

  it.each<[SourceChoice, SourceChoice, string | undefined]>([
    [AUTO, { kind: 'journal' }, undefined],
    [{ kind: 'file', path: '/var/log/kern.log' }, { kind: 'journal' }, '/var/log/kern.log is a syslog file: any local user can write lines to it (logger -t kernel …); use kernel_source = kmsg / auth_source = journal to take knocks only from the kernel and sshd lines only from sshd.'],
    [AUTO, { kind: 'file', path: '/a' }, '/a is a syslog file: any local user can write lines to it (logger -t kernel …); use kernel_source = kmsg / auth_source = journal to take knocks only from the kernel and sshd lines only from sshd.'],
  ])('warns about syslog files: %j %j', async (kernel, auth, warning) => {
    expect(fileSourceWarning(await chooseFor(kernel, auth, {}, machine()))).toEqual(warning);
  });
});

const runner: CommandRunner = { run: async () => ({ exitCode: 0, stdout: '', stderr: '', failed: false, reason: '' }) };

async function problemsOf(options: string, probes: SourceProbes, overrides: SourceOverrides = {}): Promise<string[]> {
  const config = parseConfig(`[options]\nfirewall = dry-run\n${options}[d]\nsequence = 1\n`, 'k.ini');
  const result = await preflight(config, overrides, undefined, (kind) => createBackend(kind, config, runner), probes);
  return result.problems.map((problem) => `${problem.kind}: ${problem.message}`);
}

describe('preflight of the chosen sources', () => {
  it.each<[string, string, SourceProbes, string[]]>([
    // never a gate the daemon cannot see knocks for
    ['kmsg unreadable (auto)', 'auth_source = none\n', machine({ kmsg: 'permission denied' }),
      ['runtime: kernel_source kmsg (auto): /dev/kmsg cannot be read (permission denied); knockwatch must see knocks before it changes the firewall: run it as root, or set kernel_source = journal or file:PATH.']],
    ['kmsg unreadable', 'kernel_source = kmsg\nauth_source = none\n', machine({ kmsg: 'kernel.dmesg_restrict = 1' }),
      ['runtime: kernel_source kmsg: /dev/kmsg cannot be read (kernel.dmesg_restrict = 1); knockwatch must see knocks before it changes the firewall: run it as root, or set kernel_source = journal or file:PATH.']],
    ['kmsg readable', 'auth_source = none\n', machine(), []],
    // journalctl missing: said once, for the first source that needs it
    ['no journalctl', 'kernel_source = journal\nauth_source = journal\n', machine({ journalctl: false }),
      ["runtime: kernel_source journal: journalctl not found; install systemd's journalctl or choose another source."]],
    ['journalctl there', 'kernel_source = journal\nauth_source = journal\n', machine(), []],
    // journalctl there but it reads nothing (no journal files, not in the systemd-journal group):
    // said once, before any gate
    ['a journal journalctl cannot read', 'kernel_source = journal\nauth_source = journal\n', machine({ journalUnreadable: 'journalctl: No journal files were found' }),
      ['runtime: kernel_source journal: journalctl: No journal files were found; knockwatch needs to read the journal before it changes the firewall (run it as root, or choose another source).']],
    // a journal_directory that is not there: said once, before any gate
    ['missing journal directory', `kernel_source = journal\nauth_source = journal\njournal_directory = ${join(dir, 'nope')}\n`, machine(),
      [`runtime: journal_directory ${join(dir, 'nope')}: no such directory; knockwatch needs to read the journal before it changes the firewall.`]],
    ['journal directory is a file', `kernel_source = journal\nauth_source = none\njournal_directory = ${kernLog}\n`, machine(),
      [`runtime: journal_directory ${kernLog}: not a directory; knockwatch needs to read the journal before it changes the firewall.`]],
    ['journal directory there', `kernel_source = journal\nauth_source = journal\njournal_directory = ${dir}\n`, machine(), []],
    // unused when no source reads the journal
    ['journal directory unused', `auth_source = none\njournal_directory = ${join(dir, 'nope')}\n`, machine(), []],
    // files as before
    ['missing file', `kern_log = ${join(dir, 'nope.log')}\nauth_source = none\n`, machine(),
      [`runtime: kern_log ${join(dir, 'nope.log')}: no such file; knockwatch needs to read it before it changes the firewall.`]],
    ['file there', `kern_log = ${kernLog}\nauth_source = none\n`, machine({ kmsg: 'unused' }), []],
  ])('%s', async (_name, options, probes, expected) => {
    expect(await problemsOf(options, probes)).toEqual(expected);
  });

  it('checks --log instead of the config source', async () => {
    expect(await problemsOf('auth_source = none\n', machine({ kmsg: 'permission denied' }), { kernLog })).toEqual([]);
  });
});
