import { describe as group, expect, it } from 'vitest';
import { GONE } from '../../src/engine/source-index.js';
import { SourceTiers, TOP_TIER, type TierNode } from '../../src/engine/source-tiers.js';

const node = (src: string): TierNode => ({ src, tier: 0, prev: undefined, next: undefined, slot: GONE });
const order = (tiers: SourceTiers<TierNode>) => [...tiers].map((entry) => `${entry.src}${entry.tier}`);

group('source tiers', () => {
  it('moves a node from the middle of its tier to the young end of another, keeping both lists whole', () => {
    const tiers = new SourceTiers<TierNode>();
    const [a, b, c] = ['a', 'b', 'c'].map((src) => tiers.addText(src, 1, node));
    tiers.touch(b as TierNode, 2);
    expect(order(tiers)).toEqual(['a1', 'c1', 'b2']);
    tiers.touch(a as TierNode, 1);
    expect(order(tiers)).toEqual(['c1', 'a1', 'b2']);
    tiers.delete(c as TierNode);
    expect(order(tiers)).toEqual(['a1', 'b2']);
    expect(tiers.victim()?.src).toBe('a');
  });

  it('evicts from the lowest tier that has a node, tier 0 first, whatever the order they came in', () => {
    const tiers = new SourceTiers<TierNode>();
    tiers.addText('two', 2, node);
    tiers.addText('one', 1, node);
    const none = tiers.addText('none', 0, node);
    expect(order(tiers)).toEqual(['none0', 'one1', 'two2']);
    expect(tiers.victim()?.src).toBe('none');
    tiers.delete(none);
    expect(tiers.victim()?.src).toBe('one');
    expect(tiers.size).toBe(2);
    expect(tiers.find('none')).toBeUndefined();
  });

  it('walks and evicts from the top tier too, when it is all there is', () => {
    const tiers = new SourceTiers<TierNode>();
    tiers.addText('x', TOP_TIER, node);
    tiers.addText('y', TOP_TIER, node);
    expect(order(tiers)).toEqual([`x${TOP_TIER}`, `y${TOP_TIER}`]);
    expect(tiers.victim()?.src).toBe('x');
  });
});
