import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TOKEN_SPACE } from './hash.js';
import { diffRings, movedFraction } from './ring-diff.js';
import type { RingMember } from './ring.types.js';
import { allocateTokens, firstNodeTokens } from './token-allocation.js';
import { TokenRing } from './token-ring.js';

/** Grows a cluster one join at a time through the real allocation path. */
function grow(
  n: number,
  vnodes: number,
  onJoin?: (before: TokenRing, after: TokenRing, id: string) => void,
): RingMember[] {
  const members: RingMember[] = [];
  let ring = TokenRing.EMPTY;
  for (let i = 0; i < n; i++) {
    const id = `node-${i}`;
    members.push({ id, status: 'up', tokens: allocateTokens(ring, id, vnodes) });
    const next = TokenRing.build(members);
    onJoin?.(ring, next, id);
    ring = next;
  }
  return members;
}

function maxOverMean(ring: TokenRing): number {
  const loads = ring.loads();
  return Math.max(...loads) / (TOKEN_SPACE / loads.length);
}

describe('allocateTokens', () => {
  it('spaces the first node evenly, rotated by its id', () => {
    const tokens = firstNodeTokens('alpha', 8);
    const gaps = tokens.map((t, i) => (tokens[(i + 1) % 8] - t + TOKEN_SPACE) % TOKEN_SPACE);
    for (const gap of gaps) expect(Math.abs(gap - TOKEN_SPACE / 8)).toBeLessThanOrEqual(1);
    expect(firstNodeTokens('beta', 8)).not.toEqual(tokens);
  });

  it("on every join moves only the newcomer's fair share, and only from old nodes to it", () => {
    grow(120, 16, (before, after, id) => {
      const moved = diffRings(before, after);
      for (const m of moved) expect(m.to).toBe(id);
      const ideal = 1 / after.nodeIds.length;
      expect(movedFraction(moved) / ideal).toBeLessThanOrEqual(1.05);
      expect(movedFraction(moved) / ideal).toBeGreaterThanOrEqual(0.95);
    });
  });

  it('keeps the most loaded node within 1.10x the mean as the cluster grows (16 tokens)', () => {
    const ring = TokenRing.build(grow(300, 16));
    expect(maxOverMean(ring)).toBeLessThanOrEqual(1.1);
  });

  it('keeps balance on any join order of arbitrary ids and token counts', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 2, maxLength: 40 }),
        fc.integer({ min: 4, max: 32 }),
        (ids, vnodes) => {
          const members: RingMember[] = [];
          let ring = TokenRing.EMPTY;
          for (const id of ids) {
            const tokens = allocateTokens(ring, id, vnodes);
            expect(tokens.length).toBe(vnodes);
            expect(new Set(tokens).size).toBe(vnodes);
            for (const t of tokens) expect(Array.from(ring.tokens)).not.toContain(t);
            members.push({ id, status: 'up', tokens });
            ring = TokenRing.build(members);
          }
          expect(ring.collisions).toEqual([]);
          expect(maxOverMean(ring)).toBeLessThanOrEqual(1.1 + 1 / vnodes);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is deterministic, and two nodes joining from the same view pick different tokens', () => {
    const ring = TokenRing.build(grow(50, 16));
    expect(allocateTokens(ring, 'x', 16)).toEqual(allocateTokens(ring, 'x', 16));
    const a = allocateTokens(ring, 'joiner-a', 16);
    const b = allocateTokens(ring, 'joiner-b', 16);
    expect(a.filter((t) => b.includes(t))).toEqual([]);
    const both = TokenRing.build([
      ...ring.nodeIds.map((id) => ({ id, status: 'up', tokens: ring.tokensOf(id) })),
      { id: 'joiner-a', status: 'up', tokens: a },
      { id: 'joiner-b', status: 'up', tokens: b },
    ]);
    expect(both.collisions).toEqual([]);
    // Both got a real share, even though they cut the same ranges.
    expect(both.ownership()['joiner-a']).toBeGreaterThan(0.2 / 52);
    expect(both.ownership()['joiner-b']).toBeGreaterThan(0.2 / 52);
  });

  it('avoids tokens it is told are taken (by down nodes) and works when the ring has fewer ranges than vnodes', () => {
    const ring = TokenRing.build([{ id: 'a', status: 'up', tokens: [1000] }]);
    const firstTry = allocateTokens(ring, 'b', 4);
    const tokens = allocateTokens(ring, 'b', 4, new Set(firstTry));
    expect(tokens).toHaveLength(4);
    for (const t of tokens) expect(firstTry).not.toContain(t);
    const after = TokenRing.build([
      { id: 'a', status: 'up', tokens: [1000] },
      { id: 'b', status: 'up', tokens },
    ]);
    expect(after.ownership()['b']).toBeGreaterThan(0.3);
  });

  it('refuses a vnode count that is not a positive integer', () => {
    expect(() => allocateTokens(TokenRing.EMPTY, 'a', 0)).toThrow(/vnodes.*0/);
  });
});
