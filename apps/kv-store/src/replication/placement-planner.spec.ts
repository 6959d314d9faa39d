import { describe, expect, it } from '@jest/globals';
import { batches, byTarget, planDecommission, planPlacement } from './placement-planner.js';

const ring: Record<string, string[]> = {
  k1: ['a', 'b', 'c'],
  k2: ['b', 'c', 'd'],
  k3: ['c', 'd', 'a'],
  k4: ['d', 'b', 'c'],
};

describe('planPlacement', () => {
  it('groups the keys this node replicates by the peers that replicate them too', () => {
    const plan = planPlacement(['k1', 'k3'], 'a', (k) => ring[k]);
    expect(Object.fromEntries(plan.shared)).toEqual({ b: ['k1'], c: ['k1', 'k3'], d: ['k3'] });
    expect(plan.orphans.size).toBe(0);
  });

  it('names the copies this node no longer replicates and where they belong', () => {
    const plan = planPlacement(['k1', 'k2', 'k4'], 'a', (k) => ring[k]);
    expect(Object.fromEntries(plan.orphans)).toEqual({ k2: ['b', 'c', 'd'], k4: ['d', 'b', 'c'] });
    expect(Object.fromEntries(byTarget(plan.orphans))).toEqual({ b: ['k2', 'k4'], c: ['k2', 'k4'], d: ['k2', 'k4'] });
  });

  it('keeps a key whose ring is empty (nothing to hand it to) rather than calling it an orphan', () => {
    expect(planPlacement(['k'], 'a', () => []).orphans.size).toBe(0);
  });
});

describe('planDecommission', () => {
  it('sends every key to the replicas it has without the leaving node', () => {
    const without: Record<string, string[]> = { k1: ['b', 'c', 'd'], k3: ['c', 'd', 'b'] };
    const plan = planDecommission(['k1', 'k3'], 'a', (k) => without[k]);
    expect(Object.fromEntries(plan.byTarget)).toEqual({ b: ['k1', 'k3'], c: ['k1', 'k3'], d: ['k1', 'k3'] });
    expect(plan.unplaced).toEqual([]);
  });

  it('never sends to the leaving node itself, even if a stale ring still lists it', () => {
    expect(Object.fromEntries(planDecommission(['k1'], 'a', () => ['a', 'b']).byTarget)).toEqual({ b: ['k1'] });
  });

  it('names the keys nobody else would replicate (a lone node)', () => {
    const plan = planDecommission(['k1', 'k2'], 'a', (k) => (k === 'k1' ? ['a'] : ['b']));
    expect(plan.unplaced).toEqual(['k1']);
    expect(Object.fromEntries(plan.byTarget)).toEqual({ b: ['k2'] });
  });
});

describe('batches', () => {
  it('bounds every batch by count and bytes, and never leaves an oversized item out', () => {
    const items = [5, 5, 5, 20, 1, 1, 1, 1];
    expect(batches(items, (n) => n, 3, 10)).toEqual([[5, 5], [5], [20], [1, 1, 1], [1]]);
  });
});
