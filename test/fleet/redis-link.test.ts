import { describe, expect, it } from 'vitest';
import { parseRedisUrl } from '../../src/config/fleet.js';
import { Secret } from '../../src/config/secret.js';
import type { FleetOptions } from '../../src/config/fleet-options.js';
import { READER_SILENCE, RedisLink } from '../../src/fleet/redis-link.js';
import { explainSkip, missingPrerequisites } from '../helpers/prerequisites.js';
import { eventually, FLEET_PASSWORD, TestRedis } from './redis-server.js';

const missing = missingPrerequisites(['redis-server'], false);
explainSkip('the Redis link against redis-server', missing);

function options(url: string): FleetOptions {
  const parsed = parseRedisUrl(url);
  if (!parsed.ok) throw new Error(parsed.expected);
  return { redis: { ...parsed.value, ca: undefined }, password: new Secret(Buffer.from(FLEET_PASSWORD)), group: 'web', name: 'a', publish: { grants: true, bans: true }, subscribe: { grants: true, bans: true }, streamLength: 100 };
}

describe.skipIf(missing.length > 0)('the Redis link', { timeout: 60_000 }, () => {
  // Dropped and restored again and again (the reader blocked or not, the command connection
  // retrying with backoff): each outage is one line when it begins and one when it ends.
  it('says Redis is lost once and back once per outage, however many attempts and connections', async () => {
    // As the daemon uses it: the reader blocked on the stream, the command connection publishing.
    await withBusyLink((link) => Promise.all([link.read('$', 50), link.publish({ kind: 'ban', src: '203.0.113.7', until: Date.now() + 10_000, origin: 'a' })]), async (redis, link, lines) => {
      for (let round = 0; round < 8; round++) {
        await redis.stop();
        expect(await eventually(() => !link.up && lines.filter((line) => line.includes('unreachable')).length >= round + 1)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 30 * round));
        await redis.start();
        expect(await eventually(() => link.up, 10_000)).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Each word counted on its own, as a grep of the log would: no other line says "is back".
      const saying = (words: string): number[] => lines.flatMap((line, index) => (line.includes(words) ? [index] : []));
      expect([saying('connected'), saying('unreachable'), saying('is back')]).toEqual([
        [0], Array.from({ length: 8 }, (_, round) => 1 + 2 * round), Array.from({ length: 8 }, (_, round) => 2 + 2 * round),
      ]);
      expect(lines).toHaveLength(17);
    });
  });

  // No connection is reset when the network between a host and Redis fails or Redis freezes:
  // the link notices by the reader's silence, says so once, and is back once it answers.
  it('notices a Redis that stops answering without closing a connection, once, and its return', async () => {
    await withBusyLink((link) => link.read('$', 1000), async (redis, link, lines) => {
      redis.freeze();
      expect(await eventually(() => !link.up && lines.some((line) => line.includes('unreachable')), READER_SILENCE + 10_000)).toBe(true);
      // Still frozen: retrying says nothing more.
      await new Promise((resolve) => setTimeout(resolve, READER_SILENCE + 1000));
      redis.thaw();
      expect(await eventually(() => link.up, 20_000)).toBe(true);
      const saying = (words: string): number => lines.filter((line) => line.includes(words)).length;
      expect([saying('connected'), saying('unreachable'), saying('is back'), lines.length]).toEqual([1, 1, 1, 3]);
    });
  });
});

// A link to a Redis of the test's own, kept busy with `work` whenever it is up (as the daemon
// keeps it), its log lines collected; `check` runs once it is up. Everything is torn down after.
async function withBusyLink(work: (link: RedisLink) => Promise<unknown>, check: (redis: TestRedis, link: RedisLink, lines: string[]) => Promise<void>): Promise<void> {
  const redis = new TestRedis();
  await redis.start();
  const lines: string[] = [];
  const link = new RedisLink(options(redis.url), (event) => lines.push(event.message));
  let stopped = false;
  link.start();
  const busy = (async () => {
    while (!stopped) {
      await (link.up ? work(link) : link.whenUp(50)).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  try {
    expect(await eventually(() => link.up)).toBe(true);
    await check(redis, link, lines);
  } finally {
    stopped = true;
    redis.thaw();
    await busy;
    link.stop();
    await redis.remove();
  }
}
