import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load-config.js';
import type { CommandRunner } from '../../src/firewall/command-runner.js';
import { loadFilterFile } from '../../src/filters/load-filter.js';
import { Daemon } from '../../src/runtime/daemon.js';
import { builtinFilterPath } from '../../src/runtime/package-paths.js';

const noCommands: CommandRunner = { run: async () => ({ exitCode: 1, stdout: '', stderr: '', failed: true, reason: 'no commands in this test' }) };

export interface DaemonLab {
  dir: string;
  log: string;
  // sshd's log, read only by the daemons of a lab made withAuthLog.
  authLog: string;
  stateFile: string;
  messages: string[];
  // What the dry-run backend did, one line per change.
  record: () => string[];
  setTime: (time: number) => void;
  writeConfig: (text: string) => void;
  // A daemon on the lab's files and clock, with a dry-run backend; halted by cleanUp().
  daemon: () => Daemon;
  // Appends to the log (or another, such as authLog) and lets the daemon read it and finish
  // its firewall work.
  feed: (daemon: Daemon, text: string, to?: string) => Promise<void>;
  cleanUp: () => void;
}

export function createDaemonLab(start: number, configText: string, withAuthLog = false): DaemonLab {
  const dir = mkdtempSync(join(tmpdir(), 'kw-lab-'));
  const log = join(dir, 'kern.log');
  const authLog = join(dir, 'auth.log');
  const configPath = join(dir, 'knockwatch.ini');
  const stateFile = join(dir, 'state.json');
  const recordFile = join(dir, 'record');
  writeFileSync(log, '');
  writeFileSync(authLog, '');
  writeFileSync(configPath, configText);
  let now = start;
  const messages: string[] = [];
  const daemons: Daemon[] = [];
  const filter = loadFilterFile(builtinFilterPath('netfilter'));
  const authFilter = loadFilterFile(builtinFilterPath('sshd'));
  return {
    dir, log, authLog, stateFile, messages,
    record: () => (existsSync(recordFile) ? readFileSync(recordFile, 'utf8').trim().split('\n') : []),
    setTime: (time) => { now = time; },
    writeConfig: (text) => writeFileSync(configPath, text),
    daemon: () => {
      const daemon = new Daemon(
        { configPath, kernLog: log, stateFile, dryRunFile: recordFile, ...(withAuthLog ? { authLog } : {}) },
        { clock: { now: () => now }, runner: noCommands, filter, authFilter, logger: { log: (level, message) => messages.push(`${level} ${message}`) } },
        loadConfigFile(configPath),
      );
      daemons.push(daemon);
      return daemon;
    },
    feed: async (daemon, text, to = log) => {
      appendFileSync(to, text);
      daemon.poll();
      await daemon.settle();
    },
    cleanUp: () => {
      for (const daemon of daemons.splice(0)) daemon.halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
