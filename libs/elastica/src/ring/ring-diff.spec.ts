import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TOKEN_SPACE } from './hash.js';
import { membersArb, tokenArb } from './testing/ring.arbitraries.js';
import { diffRings, movedFraction } from './ring-diff.js';
import type { MovedRange } from './ring.types.js';
import { TokenRing } from './token-ring.js';

function inRange(token: number, { start, end }: { start: number; end: number }): boolean {
  if (start === end) return true;
  return start < end ? token > start && token <= end : token > start || token <= end;
}

function moveOf(moved: MovedRange[], token: number): MovedRange | undefined {
  const hits = moved.filter((m) => inRange(token, m.range));
  expect(hits.length).toBeLessThanOrEqual(1); // moved ranges never overlap
  return hits[0];
}

describe('diffRings', () => {
  it('reports exactly the tokens whose owner changed, with the right from and to', () => {
    fc.assert(
      fc.property(membersArb(), membersArb(), fc.array(tokenArb, { maxLength: 30 }), (a, b, probes) => {
        const before = TokenRing.build(a);
        const after = TokenRing.build(b);
        const moved = diffRings(before, after);
        const edges = [...before.tokens, ...after.tokens].flatMap((t) => [t, (t + 1) % TOKEN_SPACE]);
        for (const t of [...probes, ...edges]) {
          const from = before.nodeForToken(t) ?? null;
          const to = after.nodeForToken(t) ?? null;
          const move = moveOf(moved, t);
          if (from === to) expect(move).toBeUndefined();
          else expect(move && { from: move.from, to: move.to }).toEqual({ from, to });
        }
      }),
      { numRuns: 400 },
    );
  });

  it("moves only the leaver's ranges when a node leaves, and only to the nodes after it", () => {
    fc.assert(
      fc.property(membersArb({ minMembers: 2, owning: true }), fc.nat(), (members, pick) => {
        const before = TokenRing.build(members);
        if (before.nodeIds.length < 2) return;
        const leaver = before.nodeIds[pick % before.nodeIds.length];
        const after = TokenRing.build(members.filter((m) => m.id !== leaver));
        const moved = diffRings(before, after);
        for (const m of moved) expect(m.from).toBe(leaver);
        expect(movedFraction(moved)).toBeCloseTo(before.ownership()[leaver], 9);
        // And coming back is the mirror image.
        const back = diffRings(after, before);
        for (const m of back) expect(m.to).toBe(leaver);
        expect(movedFraction(back)).toBeCloseTo(movedFraction(moved), 9);
      }),
      { numRuns: 300 },
    );
  });

  it('reports nothing between equal rings, and everything from or to nobody around an empty one', () => {
    const ring = TokenRing.build([
      { id: 'a', status: 'up', tokens: [1, 1000] },
      { id: 'b', status: 'up', tokens: [500] },
    ]);
    expect(diffRings(ring, ring)).toEqual([]);
    const up = diffRings(TokenRing.EMPTY, ring);
    expect(up.every((m) => m.from === null)).toBe(true);
    expect(movedFraction(up)).toBe(1);
    const down = diffRings(ring, TokenRing.EMPTY);
    expect(down.every((m) => m.to === null)).toBe(true);
    expect(movedFraction(down)).toBe(1);
  });

  it('merges adjacent pieces of one move, across the wrap too', () => {
    const before = TokenRing.build([{ id: 'a', status: 'up', tokens: [100, 200, 300] }]);
    const after = TokenRing.build([{ id: 'b', status: 'up', tokens: [150] }]);
    expect(diffRings(before, after)).toEqual([{ range: { start: 300, end: 300 }, from: 'a', to: 'b' }]);
  });
});
