#!/usr/bin/env -S node --no-allocation-site-pretenuring --max-semi-space-size=8 --max-inlined-bytecode-size-cumulative=460
import { main } from './main.js';

// `knockwatch replay big.log | head`: a reader that went away is the end of the output, not a
// crash. (The only exit outside main, for the one error main's writes cannot see.)
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: process.stdin,
});
