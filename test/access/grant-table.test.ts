import { describe, expect, it } from 'vitest';
import { GrantTable } from '../../src/access/grant-table.js';
import type { Door } from '../../src/config/types.js';
import { config } from '../helpers/engine.js';

const [OPEN, FOREVER] = config(`
[open]
sequence = 1,2
open_for = 30
[forever]
sequence = 3,4
open_for = 0
`).doors as [Door, Door];

describe('grants', () => {
  it('opens once and extends on a repeated knock, never duplicating', () => {
    const table = new GrantTable();
    expect(table.open('203.0.113.7', OPEN, 1000).map((d) => d.type)).toEqual(['open']);
    expect(table.open('203.0.113.7', OPEN, 20_000)).toEqual([{ type: 'extend', time: 20_000, src: '203.0.113.7', door: 'open', expires: 50_000 }]);
    expect(table.size).toBe(1);
    expect(table.expire(49_999)).toEqual([]);
    expect(table.expire(50_000).map((d) => d.type)).toEqual(['expire']);
    expect(table.size).toBe(0);
  });

  // Log times can step back (two logs merged, a clock set back): a knock stamped before the
  // one that opened never takes time away from the grant.
  it('never shortens a grant on a knock stamped earlier than its latest', () => {
    const table = new GrantTable();
    table.open('203.0.113.7', OPEN, 20_000);
    expect(table.open('203.0.113.7', OPEN, 5000)).toEqual([{ type: 'extend', time: 5000, src: '203.0.113.7', door: 'open', expires: 50_000 }]);
    expect(table.expire(49_999)).toEqual([]);
  });

  it('closes one address\'s grant only', () => {
    const table = new GrantTable();
    table.open('203.0.113.7', OPEN, 0);
    table.open('203.0.113.8', OPEN, 0);
    expect(table.close('203.0.113.7', 'open', 5000, 'admin')).toEqual([{ type: 'close', time: 5000, src: '203.0.113.7', door: 'open', by: 'admin' }]);
    expect(table.close('203.0.113.7', 'open', 5000, 'admin')).toEqual([]);
    expect(table.list().map((grant) => grant.src)).toEqual(['203.0.113.8']);
    // A close door's close says so: its name may be a reason's.
    expect(table.close('203.0.113.8', 'open', 6000, { door: 'admin' })).toEqual([{ type: 'close', time: 6000, src: '203.0.113.8', door: 'open', by: 'admin', byDoor: true }]);
  });

  it('lists the grants of one address, oldest first', () => {
    const table = new GrantTable();
    table.open('203.0.113.7', FOREVER, 0);
    table.open('203.0.113.8', OPEN, 1000);
    table.open('203.0.113.7', OPEN, 2000);
    expect(table.forSource('203.0.113.7').map((grant) => `${grant.door} ${grant.opened}`)).toEqual(['forever 0', 'open 2000']);
    expect(table.forSource('203.0.113.9')).toEqual([]);
  });

  it('keeps a grant with open_for = 0 until it is closed', () => {
    const table = new GrantTable();
    table.open('203.0.113.7', FOREVER, 0);
    expect(table.expire(365 * 86_400_000)).toEqual([]);
    expect(table.close('203.0.113.7', 'forever', 1, 'logout').map((d) => d.type)).toEqual(['close']);
  });
});

describe('the earliest expiry', () => {
  it('follows opening, extending, closing and expiring', () => {
    const table = new GrantTable();
    expect(table.nextExpiry()).toBe(Infinity);
    table.open('203.0.113.7', OPEN, 0);
    table.open('203.0.113.8', OPEN, 5000);
    expect(table.nextExpiry()).toBe(30_000);
    table.open('203.0.113.7', OPEN, 10_000);
    expect(table.nextExpiry()).toBe(35_000);
    table.close('203.0.113.8', 'open', 11_000, 'logout');
    expect(table.nextExpiry()).toBe(40_000);
    table.expire(40_000);
    expect(table.nextExpiry()).toBe(Infinity);
    table.restore({ src: '203.0.113.9', door: 'open', ports: [], opened: 0, expires: 7000 });
    expect(table.nextExpiry()).toBe(7000);
  });
});
