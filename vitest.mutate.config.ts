import { defineConfig } from 'vitest/config';

// Mutation testing runs the unit tests of the decision core only: no e2e suites (real
// namespaces), no CLI tests (they run the built dist/, which mutants never reach), and not
// the million-source floods (each engine mutant would run them; npm test does), nor the
// fleet's tests against a real redis-server (seconds each, timing on a shared machine).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/e2e/**', 'test/cli/**', 'test/firewall/**', 'test/systemd/**', 'test/**/*-flood.test.ts', 'test/engine/retention.test.ts', 'test/fleet/fleet-redis.test.ts', 'test/fleet/redis-link.test.ts'],
  },
});
