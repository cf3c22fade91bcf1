import { createInterface } from 'node:readline';
import type { Decision } from '../engine/decisions.js';
import { networkContains } from '../net/address.js';
import type { Daemon } from '../runtime/daemon.js';
import type { CliValues } from './values.js';
import { line, type Deps } from './output.js';
import { catchSignals, createDaemon, serve, startOrReport, type CaughtSignals } from './run-command.js';
import { UsageError } from './usage-error.js';

const DEFAULT_TIMEOUT = 120;

type Outcome = { kept: true; how: string } | { kept: false; why: string };

// Like iptables-apply: installs the ruleset and runs the daemon, and keeps both only when a
// new SSH login through the door (or the admin's "yes") proves that the owner can get in.
// On timeout, Ctrl-C or a lost terminal, everything it installed is removed.
export async function runTry(rest: readonly string[], values: CliValues, deps: Deps): Promise<number> {
  const caught = catchSignals(deps.signals);
  try {
    const seconds = parseTimeout(values.timeout);
    const daemon = createDaemon('try', rest, values, deps);
    if (await daemon.alreadyInstalled()) {
      line(deps.stderr, 'knockwatch: its ruleset is already installed (is the knockwatch service running?); stop it first (systemctl stop knockwatch, or knockwatch flush).');
      return 1;
    }
    const installedAt = deps.clock.now();
    const refused = await startOrReport(daemon, deps);
    if (refused !== undefined) return refused;
    const authLog = daemon.authLog;
    line(deps.stdout, `knockwatch is on: ${daemon.config.doors.flatMap((door) => door.open).map((step) => `${step.port}/${step.proto}`).join(', ') || 'the protected ports'} now need a knock.`);
    line(deps.stdout, 'Keep this session open. From another terminal or machine, knock and log in with a NEW SSH session.');
    line(deps.stdout, authLog === undefined
      ? 'There is no auth log to see that login in: type yes here once it worked.'
      : `knockwatch keeps it when it sees that login in ${authLog}, or when you type yes here.`);
    line(deps.stdout, `Otherwise everything it installed is removed in ${seconds} s (also on Ctrl-C or if this terminal goes away).`);
    const outcome = await waitForProof(daemon, caught, deps, seconds * 1000, installedAt);
    if (!outcome.kept) {
      await daemon.rollback(outcome.why);
      line(deps.stdout, `Not confirmed (${outcome.why}): removed everything knockwatch installed.`);
      return 1;
    }
    line(deps.stdout, `Confirmed by ${outcome.how}: knockwatch keeps running here with its ruleset.`);
    line(deps.stdout, 'To make it permanent: systemctl enable --now knockwatch (stop this one first with Ctrl-C; the ruleset stays).');
    return await serve(daemon, caught);
  } finally {
    caught.release();
  }
}

function parseTimeout(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TIMEOUT;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 3600) throw new UsageError(`--timeout: expected whole seconds from 1 to 3600, found "${text}"`);
  return value;
}

// The first of: a new SSH login from an address that knocked or is whitelisted, "yes" or
// "no" typed, the end of the terminal, a signal, the timeout.
async function waitForProof(daemon: Daemon, caught: CaughtSignals, deps: Deps, timeoutMs: number, since: number): Promise<Outcome> {
  return await new Promise<Outcome>((resolve) => {
    let done = false;
    const input = deps.stdin === undefined ? undefined : createInterface({ input: deps.stdin, terminal: false });
    const finish = (outcome: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      input?.close();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kept: false, why: `no new SSH login within ${timeoutMs / 1000} s` }), timeoutMs);
    daemon.observe((decision: Decision) => {
      if (decision.type !== 'login' || decision.time < since - 1000) return;
      const knocked = daemon.grants().some((grant) => grant.src === decision.src);
      const whitelisted = daemon.config.options.whitelist.some((network) => networkContains(network, decision.src));
      if (knocked || whitelisted) finish({ kept: true, how: `the SSH login of ${JSON.stringify(decision.user)} from ${decision.src} (${knocked ? 'knocked' : 'whitelisted'})` });
    });
    caught.handle((signal) => finish({ kept: false, why: signal === 'SIGHUP' ? 'the terminal went away' : signal }));
    input?.on('line', (text) => {
      const answer = text.trim().toLowerCase();
      if (answer === 'yes') finish({ kept: true, how: 'your "yes"' });
      else if (answer === 'no') finish({ kept: false, why: 'you said no' });
    });
    input?.on('close', () => finish({ kept: false, why: 'the terminal went away' }));
  });
}
