import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { diffRings, movedFraction } from './ring-diff.js';
import { PlannerLab } from './testing/planner-lab.js';

const IDS = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

/** Starts `waves` of nodes: each wave's nodes within `spreadMs` of its start, waves `gapMs` apart; settles. */
function arrive(lab: PlannerLab, waves: number[], gapMs: number, spreadMs = 0): void {
  let k = 0;
  waves.forEach((size, w) => {
    const at = lab.now + w * gapMs;
    for (let i = 0; i < size; i++, k++)
      lab.add(`n${String(k).padStart(3, '0')}`, at + (spreadMs * i) / Math.max(1, size));
  });
  lab.runFor(waves.length * gapMs);
  expect(lab.runUntilSettled()).not.toBeNull();
}

function expectBalanced(lab: PlannerLab): void {
  const { max, min } = lab.balance();
  expect(max).toBeLessThanOrEqual(1.1);
  expect(min).toBeGreaterThanOrEqual(0.9);
}

describe('TokenPlanner: arrival patterns', () => {
  const patterns: [string, number[], number][] = [
    ['3 together', [3], 0],
    ['5 together', [5], 0],
    ['8 together', [8], 0],
    ['3, then 5 together', [3, 5], 20_000],
    ['5, then 3 together', [5, 3], 20_000],
    ['8, then 8 together', [8, 8], 20_000],
  ];
  for (const [name, waves, gap] of patterns) {
    it(`${name}: balanced within 1.10x / 0.90x of the mean`, () => {
      const lab = new PlannerLab(1000, 300);
      arrive(lab, waves, gap);
      expect(lab.ring().nodeIds).toHaveLength(waves.reduce((a, b) => a + b));
      expectBalanced(lab);
    });
  }

  it('24 started 0.3 s apart: balanced', () => {
    const lab = new PlannerLab(1000, 300);
    arrive(lab, [24], 0, 24 * 300);
    expectBalanced(lab);
  });

  it('sequential joins: each moves at most 1.05x its fair share, only from old nodes to it, with no re-plan', () => {
    const lab = new PlannerLab(1000, 300);
    let before = lab.ring();
    for (const id of IDS('s', 12)) {
      lab.add(id);
      expect(lab.runUntilSettled()).not.toBeNull();
      const after = lab.ring();
      if (!before.isEmpty) {
        const moved = diffRings(before, after);
        for (const m of moved) expect(m.to).toBe(id);
        expect(movedFraction(moved) * after.nodeIds.length).toBeLessThanOrEqual(1.05);
      }
      expect(lab.nodes.get(id)!.planner.stats.replans).toBe(0);
      before = after;
    }
    expectBalanced(lab);
  });

  it('joiners who chose apart, not hearing of each other, re-plan to a fair share each once they do', () => {
    const lab = new PlannerLab(1000, 300);
    arrive(lab, [4], 0);
    const x = lab.add('x');
    const y = lab.add('y');
    lab.separate('x', 'y');
    lab.runFor(2000);
    // Both took their share of the same four nodes: the ring is lopsided while they cannot talk.
    expect(x.planner.phase).toBe('provisional');
    expect(y.planner.phase).toBe('provisional');
    expect(lab.balance().min).toBeLessThan(0.9);
    lab.heal();
    expect(lab.runUntilSettled()).not.toBeNull();
    expectBalanced(lab);
    // The repair moved at most one share per joiner, and only joiners' provisional ranges.
    const replanned = x.planner.stats.replanMovedFraction + y.planner.stats.replanMovedFraction;
    expect(x.planner.stats.replans + y.planner.stats.replans).toBeGreaterThan(0);
    expect(replanned).toBeLessThanOrEqual(2 / 6);
  });

  it('property: any arrival times of up to 12 joiners into up to 6 nodes end balanced and settled', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.array(fc.integer({ min: 0, max: 8000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 600 }),
        (initial, starts, delay) => {
          const lab = new PlannerLab(1000, delay);
          if (initial > 0) arrive(lab, [initial], 0);
          const t0 = lab.now;
          starts.forEach((s, i) => lab.add(`j${String(i).padStart(2, '0')}`, t0 + s));
          lab.runFor(8000);
          if (lab.runUntilSettled() === null) return false;
          const { max, min } = lab.balance();
          return max <= 1.1 && min >= 0.9;
        },
      ),
      { numRuns: 20 },
    );
  });
});

describe('TokenPlanner: load', () => {
  it('a joiner relieves the node holding three times the data first', () => {
    const lab = new PlannerLab(1000, 0);
    arrive(lab, [5], 0);
    const before = lab.ring();
    const heavy = before.nodeIds[2];
    for (const id of before.nodeIds) lab.setLoad(id, (id === heavy ? 3 : 1) * before.ownership()[id] * 1e9);
    lab.add('joiner');
    expect(lab.runUntilSettled()).not.toBeNull();
    const moved = diffRings(before, lab.ring());
    const from = new Map<string, number>();
    for (const m of moved) from.set(m.from!, (from.get(m.from!) ?? 0) + movedFraction([m]));
    const fromHeavy = from.get(heavy) ?? 0;
    for (const [id, f] of from) if (id !== heavy) expect(f).toBeLessThan(fromHeavy / 4);
    expect(fromHeavy / movedFraction(moved)).toBeGreaterThan(0.6);
  });

  it('load within the margin of key space changes nothing', () => {
    const plain = new PlannerLab(1000, 0);
    arrive(plain, [5], 0);
    const noisy = new PlannerLab(1000, 0);
    arrive(noisy, [5], 0);
    const ring = noisy.ring();
    ring.nodeIds.forEach((id, i) => noisy.setLoad(id, ring.ownership()[id] * 1e6 * (1 + ((i % 3) - 1) * 0.2)));
    plain.add('joiner');
    noisy.add('joiner');
    plain.runUntilSettled();
    noisy.runUntilSettled();
    expect(noisy.nodes.get('joiner')!.planner.tokens).toEqual(plain.nodes.get('joiner')!.planner.tokens);
  });
});

describe('TokenPlanner: restarts and replacements', () => {
  it('a restarted node takes back its previous tokens from a peer', () => {
    const lab = new PlannerLab(1000, 300);
    arrive(lab, [4], 0);
    const old = lab.nodes.get('n001')!;
    const tokens = [...old.planner.tokens];
    lab.nodes.delete('n001');
    const again = lab.add('n001', lab.now, { generation: 2 });
    expect(lab.runUntilSettled()).not.toBeNull();
    expect(again.planner.tokens).toEqual(tokens);
    // The handback is withdrawn once it has them.
    lab.runFor(2000);
    for (const n of lab.nodes.values()) expect(n.state.get('elastica.handback.n001')?.value ?? '').toBe('');
  });

  it('a replacement takes the down node’s tokens whole', () => {
    const lab = new PlannerLab(1000, 300);
    arrive(lab, [4], 0);
    const down = lab.nodes.get('n002')!;
    down.status = 'down';
    const r = lab.add('r', lab.now, { replaces: 'n002' });
    expect(lab.runUntilSettled()).not.toBeNull();
    expect(r.planner.tokens).toEqual(down.planner.tokens);
    expect(r.planner.stats.replans).toBe(0);
  });
});
