import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { diffRings, movedFraction } from './ring-diff.js';
import { PlannerLab } from './testing/planner-lab.js';

const IDS = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);

interface WaveRecord {
  /** Virtual ms from the wave's last start until every node held one ring of every node. */
  agreedAfter: number;
  /** How many times that agreed ring changed until every node had settled (0: settling moved nothing). */
  changesWhileSettling: number;
}

/**
 * Starts `waves` of nodes (each wave's within `spreadMs`, waves `gapMs` apart) and follows each wave
 * to one agreed ring and to settled tokens.
 */
function arrive(lab: PlannerLab, waves: number[], gapMs: number, spreadMs = 0): WaveRecord[] {
  const records: WaveRecord[] = [];
  let k = 0;
  for (const size of waves) {
    const t0 = lab.now;
    for (let i = 0; i < size; i++, k++)
      lab.add(`n${String(k).padStart(3, '0')}`, t0 + (spreadMs * i) / Math.max(1, size));
    const last = t0 + (spreadMs * (size - 1)) / Math.max(1, size);
    let agreedAt: number | undefined;
    let checksum: number | undefined;
    let changes = 0;
    while (lab.now < t0 + 120_000) {
      const ring = lab.now >= last ? lab.agreedRing() : undefined;
      if (ring !== undefined) {
        agreedAt ??= lab.now;
        if (checksum !== undefined && ring !== checksum) changes++;
        checksum = ring;
      } else if (agreedAt !== undefined) changes++;
      if (agreedAt !== undefined && [...lab.nodes.values()].every((n) => n.planner.phase === 'settled')) break;
      lab.tick();
    }
    expect(agreedAt).toBeDefined();
    expect([...lab.nodes.values()].every((n) => n.planner.phase === 'settled')).toBe(true);
    // The settled tokens are the ring everyone agreed on.
    expect(lab.ring().checksum).toBe(checksum);
    records.push({ agreedAfter: agreedAt! - last, changesWhileSettling: changes });
    lab.runFor(gapMs);
  }
  return records;
}

function expectBalanced(lab: PlannerLab): void {
  const { max, min } = lab.balance();
  expect(max).toBeLessThanOrEqual(1.1);
  expect(min).toBeGreaterThanOrEqual(0.9);
}

describe('TokenPlanner: arrival patterns', () => {
  const patterns: [string, number[]][] = [
    ['3 together', [3]],
    ['5 together', [5]],
    ['8 together', [8]],
    ['3, then 5 together', [3, 5]],
    ['5, then 3 together', [5, 3]],
    ['8, then 8 together', [8, 8]],
  ];
  for (const [name, waves] of patterns) {
    it(`${name}: one ring everywhere once the news has spread, unchanged as tokens settle, balanced`, () => {
      const lab = new PlannerLab(1000, 300);
      for (const wave of arrive(lab, waves, 10_000)) {
        // Each joiner owns its part one interval after it first heard the cluster; nothing waits for
        // tokens to travel, and settling (5 intervals later) does not move a range.
        expect(wave.agreedAfter).toBeLessThanOrEqual(1000 + 300 + lab.tickMs);
        expect(wave.changesWhileSettling).toBe(0);
      }
      expect(lab.ring().nodeIds).toHaveLength(waves.reduce((a, b) => a + b));
      expectBalanced(lab);
    });
  }

  it('24 started 0.3 s apart: one ring, balanced', () => {
    const lab = new PlannerLab(1000, 300);
    const [wave] = arrive(lab, [24], 0, 24 * 300);
    expect(wave.changesWhileSettling).toBe(0);
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

  it('joiners that cannot hear each other: the nodes that hear both give each a fair share, and all agree once they do', () => {
    const lab = new PlannerLab(1000, 300);
    arrive(lab, [4], 0);
    const x = lab.add('x');
    const y = lab.add('y');
    lab.separate('x', 'y');
    lab.runFor(2000);
    // The four settled nodes plan for both: one fair ring of six; x and y each see a ring of five.
    const settled = lab.nodes.get('n000')!;
    const ring = lab.ringOf(settled);
    expect(ring.nodeIds).toHaveLength(6);
    for (const share of Object.values(ring.ownership())) expect(share * 6).toBeGreaterThan(0.9);
    expect(lab.ringOf(x).nodeIds).not.toContain('y');
    expect(x.planner.phase).toBe('provisional');
    lab.heal();
    expect(lab.runUntilSettled()).not.toBeNull();
    expect(lab.agreedRing()).toBe(lab.ring().checksum);
    expectBalanced(lab);
    expect(lab.ringOf(y).checksum).toBe(ring.checksum);
  });

  it('a joiner arriving while a cohort settles: the settled keep their tokens, all agree, balanced', () => {
    const lab = new PlannerLab(1000, 300);
    arrive(lab, [3], 0);
    for (const id of IDS('c', 5)) lab.add(id);
    while (![...lab.nodes.values()].some((n) => n.planner.phase === 'settled' && n.id.startsWith('c'))) lab.tick();
    const early = [...lab.nodes.values()].filter((n) => n.id.startsWith('c') && n.planner.phase === 'settled');
    const tokens = early.map((n) => [...n.planner.tokens]);
    lab.add('b-late');
    expect(lab.runUntilSettled()).not.toBeNull();
    expect(early.map((n) => [...n.planner.tokens])).toEqual(tokens);
    expect(lab.agreedRing()).toBe(lab.ring().checksum);
    expect(lab.ring().nodeIds).toHaveLength(9);
    expectBalanced(lab);
  });

  it('property: any arrival times of up to 12 joiners into up to 6 nodes end agreed, balanced and settled', () => {
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
          if (lab.agreedRing() !== lab.ring().checksum) return false;
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
    arrive(lab, [4], 2000); // and the peers have heard its settled tokens
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

  it('a cluster restarted whole, each node given its kept tokens, has the same ring as before', () => {
    const lab = new PlannerLab(1000, 300);
    arrive(lab, [2, 2, 1], 2000); // a ring grown by joins: a plan of all five at once would differ
    const before = lab.ring().checksum;
    const kept = new Map([...lab.nodes.values()].map((n) => [n.id, [...n.planner.tokens]]));
    lab.nodes.clear(); // nobody is left to hand tokens back
    let i = 0;
    // In reverse order, spread out: arrival does not matter, each settles on its own tokens at once.
    for (const [id, tokens] of [...kept].reverse())
      lab.add(id, lab.now + 700 * i++, { generation: 2, restoreTokens: tokens });
    expect(lab.runUntilSettled()).not.toBeNull();
    expect(lab.ring().checksum).toBe(before);
    for (const n of lab.nodes.values()) expect(n.planner.stats.replans).toBe(0);
  });

  it('a replacement takes the down node’s tokens whole', () => {
    const lab = new PlannerLab(1000, 300);
    arrive(lab, [4], 2000);
    const down = lab.nodes.get('n002')!;
    down.status = 'down';
    const r = lab.add('r', lab.now, { replaces: 'n002' });
    expect(lab.runUntilSettled()).not.toBeNull();
    expect(r.planner.tokens).toEqual(down.planner.tokens);
    expect(r.planner.stats.replans).toBe(0);
  });
});
