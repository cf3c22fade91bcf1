import { existsSync } from 'node:fs';
import { findProgram } from '../firewall/find-program.js';
import type { Options, SourceChoice } from '../config/types.js';
import { journalHasSshd, journalUnreadable } from '../sources/journal-source.js';
import { kmsgReadable } from '../sources/kmsg-source.js';
import type { SourceSpec } from './source-list.js';

// What the machine offers, asked only when a choice depends on it: tests give their own.
export interface SourceProbes {
  // Why /dev/kmsg cannot be read (not root, kernel.dmesg_restrict), undefined when it can.
  kmsgReadable(): string | undefined;
  // Whether the journal (the system's, or the one in `directory`) holds entries from sshd.
  journalHasSshd(directory: string | undefined): Promise<boolean>;
  // Where journalctl is, undefined when it is not installed.
  journalctlPath(): string | undefined;
  // Why the journal cannot be read (no journal files, no permission), undefined when it can.
  journalUnreadable(directory: string | undefined): Promise<string | undefined>;
  fileExists(path: string): boolean;
}

const AUTH_LOG_FALLBACK = '/var/log/auth.log';

// The machine as it is.
export const defaultProbes: SourceProbes = {
  kmsgReadable: () => kmsgReadable(),
  journalHasSshd: async (directory) => await journalHasSshd(directory),
  journalctlPath: () => findProgram('journalctl'),
  journalUnreadable: async (directory) => await journalUnreadable(directory),
  fileExists: (path) => existsSync(path),
};

// One role's outcome: the source to read (none for sshd off), and why it was chosen.
export interface ChosenSource {
  spec: SourceSpec | undefined;
  // "kmsg (auto)", "journal (auto: it has sshd entries)", "file:/var/log/kern.log (--log)".
  summary: string;
}

export interface SourceSelection {
  kernel: ChosenSource;
  auth: ChosenSource;
  specs: SourceSpec[];
  // One line per role: "kernel: kmsg (auto)", "sshd: none (auto: ...)".
  reasons: string[];
}

// What the command line gives (--log, --auth-log) wins over the config.
export interface SourceOverrides {
  kernLog?: string | undefined;
  authLog?: string | undefined;
}

// The options that decide the sources.
export type SourceOptions = Pick<Options, 'kernelSource' | 'authSource' | 'journalDirectory'>;

// Turns the config's choices into the sources to read. `auto` for knocks is kmsg (whether
// it can be read is preflight's question); for sshd the journal when it has sshd entries,
// else /var/log/auth.log when it is there, else none. Journal sources read journal_directory
// when it is set, and their summary names it.
export async function chooseSources(options: SourceOptions, overrides: SourceOverrides, probes: SourceProbes): Promise<SourceSelection> {
  const { kernelSource, authSource, journalDirectory } = options;
  const kernel = chooseKernel(overrides.kernLog !== undefined ? { kind: 'file', path: overrides.kernLog } : kernelSource, overrides.kernLog !== undefined, journalDirectory);
  const auth = await chooseAuth(overrides.authLog !== undefined ? { kind: 'file', path: overrides.authLog } : authSource, overrides.authLog !== undefined, journalDirectory, probes);
  return {
    kernel,
    auth,
    specs: [kernel.spec, auth.spec].filter((spec) => spec !== undefined),
    reasons: [`kernel: ${kernel.summary}`, `sshd: ${auth.summary}`],
  };
}

function chooseKernel(choice: SourceChoice, fromFlag: boolean, directory: string | undefined): ChosenSource {
  switch (choice.kind) {
    case 'auto': return { spec: { kind: 'kmsg', name: 'kmsg', lines: 'knocks' }, summary: 'kmsg (auto)' };
    case 'kmsg': return { spec: { kind: 'kmsg', name: 'kmsg', lines: 'knocks' }, summary: 'kmsg' };
    case 'journal': return { spec: { kind: 'journal', name: 'journal:kernel', lines: 'knocks', directory }, summary: journalSummary(directory, '') };
    case 'file': return { spec: { kind: 'file', name: choice.path, lines: 'knocks' }, summary: `file:${choice.path}${fromFlag ? ' (--log)' : ''}` };
    // The config reader never gives kernel_source = none: knocks always have a source.
    case 'none': throw new Error('kernel_source cannot be none');
  }
}

async function chooseAuth(choice: SourceChoice, fromFlag: boolean, directory: string | undefined, probes: SourceProbes): Promise<ChosenSource> {
  switch (choice.kind) {
    case 'auto':
      if (probes.journalctlPath() !== undefined && await probes.journalHasSshd(directory)) {
        return { spec: { kind: 'journal', name: 'journal:sshd', lines: 'auth', directory }, summary: journalSummary(directory, ' (auto: it has sshd entries)') };
      }
      if (probes.fileExists(AUTH_LOG_FALLBACK)) {
        return { spec: { kind: 'file', name: AUTH_LOG_FALLBACK, lines: 'auth' }, summary: `file:${AUTH_LOG_FALLBACK} (auto: no sshd entries in the ${journalSummary(directory, '')})` };
      }
      return { spec: undefined, summary: `none (auto: no sshd entries in the ${journalSummary(directory, '')}, no ${AUTH_LOG_FALLBACK})` };
    case 'journal': return { spec: { kind: 'journal', name: 'journal:sshd', lines: 'auth', directory }, summary: journalSummary(directory, '') };
    case 'file': return { spec: { kind: 'file', name: choice.path, lines: 'auth' }, summary: `file:${choice.path}${fromFlag ? ' (--auth-log)' : ''}` };
    case 'none': return { spec: undefined, summary: 'none (sshd features are off)' };
    case 'kmsg': throw new Error('auth_source cannot be kmsg');
  }
}

// "journal", or "journal in /srv/journal" for journal_directory.
function journalSummary(directory: string | undefined, why: string): string {
  return `journal${directory === undefined ? '' : ` in ${directory}`}${why}`;
}

// A syslog file takes lines from any local user (`logger -t kernel ...`): said once, at
// start and by `check`, when a source is one.
export function fileSourceWarning(selection: SourceSelection): string | undefined {
  const paths = selection.specs.filter((spec) => spec.kind === 'file').map((spec) => spec.name);
  if (paths.length === 0) return undefined;
  const what = paths.length === 1 ? `${paths[0]} is a syslog file` : `${paths.join(' and ')} are syslog files`;
  return `${what}: any local user can write lines to it (logger -t kernel …); use kernel_source = kmsg / auth_source = journal to take knocks only from the kernel and sshd lines only from sshd.`;
}
