import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TOKEN_SPACE, tokenOf } from './hash.js';
import { membersArb, tokenArb } from './testing/ring.arbitraries.js';
import type { RingMember } from './ring.types.js';
import { ownsRanges, TokenRing } from './token-ring.js';

/** The obvious, slow answer: collect every owning (token, id), smallest id per token, first token >= t. */
function referenceOwner(members: RingMember[], token: number): string | undefined {
  const replaced = new Set(members.filter((m) => m.replaces && ownsRanges(m.status)).map((m) => m.replaces));
  const claims = new Map<number, string>();
  for (const m of members) {
    if (!ownsRanges(m.status) || replaced.has(m.id)) continue;
    for (const t of Array.from(m.tokens)) {
      const held = claims.get(t);
      if (held === undefined || m.id < held) claims.set(t, m.id);
    }
  }
  const sorted = [...claims.keys()].sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const at = sorted.find((t) => t >= token) ?? sorted[0];
  return claims.get(at);
}

function rangeSize(r: { start: number; end: number }): number {
  const d = r.end - r.start;
  return d > 0 ? d : d + TOKEN_SPACE;
}

describe('TokenRing', () => {
  it('plus(member) is the ring built with that member, collisions and existing ids included', () => {
    fc.assert(
      fc.property(
        membersArb({ owning: true }),
        fc.string({ minLength: 1, maxLength: 6 }),
        fc.uniqueArray(tokenArb, { minLength: 1, maxLength: 8 }),
        (members, id, tokens) => {
          if (members.some((m) => m.id === id)) return;
          const ring = TokenRing.build(members);
          const grown = ring.plus(id, tokens);
          const built = TokenRing.build([
            ...ring.nodeIds.map((n) => ({ id: n, status: 'up', tokens: ring.tokensOf(n) })),
            { id, status: 'up', tokens },
          ]);
          expect(Array.from(grown.tokens)).toEqual(Array.from(built.tokens));
          expect(grown.nodeIds).toEqual(built.nodeIds);
          expect(Array.from(grown.owners)).toEqual(Array.from(built.owners));
          expect(grown.checksum).toBe(built.checksum);
        },
      ),
    );
  });

  it('finds the same owner as a plain scan, for any membership and any token', () => {
    fc.assert(
      fc.property(membersArb(), fc.array(tokenArb, { minLength: 1, maxLength: 20 }), (members, probes) => {
        const ring = TokenRing.build(members);
        const edges = Array.from(ring.tokens).flatMap((t) => [
          t,
          (t + 1) % TOKEN_SPACE,
          (t - 1 + TOKEN_SPACE) % TOKEN_SPACE,
        ]);
        for (const t of [...probes, ...edges, 0, TOKEN_SPACE - 1])
          expect(ring.nodeForToken(t)).toBe(referenceOwner(members, t));
      }),
      { numRuns: 500 },
    );
  });

  it('covers the key space exactly once: the ranges tile the circle and each belongs to one node', () => {
    fc.assert(
      fc.property(membersArb({ minMembers: 1 }), (members) => {
        const ring = TokenRing.build(members);
        if (ring.isEmpty) return;
        const all = ring.nodeIds.flatMap((id) => ring.rangesOf(id).map((r) => ({ ...r, id })));
        expect(all.length).toBe(ring.size);
        expect(all.reduce((s, r) => s + rangeSize(r), 0)).toBe(TOKEN_SPACE);
        // Tiling: each range starts where another ends, and each end is a distinct token.
        const ends = new Set(all.map((r) => r.end));
        expect(ends.size).toBe(all.length);
        for (const r of all) expect(ends.has(r.start)).toBe(true);
        for (const r of all) expect(ring.nodeForToken(r.end)).toBe(r.id);
        const own = ring.ownership();
        expect(Object.values(own).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      }),
      { numRuns: 300 },
    );
  });

  it('gives distinct replicas in ring order, the owner first', () => {
    fc.assert(
      fc.property(membersArb({ minMembers: 1 }), tokenArb, fc.integer({ min: 1, max: 15 }), (members, token, n) => {
        const ring = TokenRing.build(members);
        const replicas = ring.replicasForToken(token, n);
        expect(new Set(replicas).size).toBe(replicas.length);
        expect(replicas.length).toBe(Math.min(n, ring.nodeIds.length));
        if (replicas.length > 0) expect(replicas[0]).toBe(ring.nodeForToken(token));
        // Ring order: each next replica owns the first position after the previous ones that is not theirs.
        let i = ring.indexOf(token);
        const seen: string[] = [];
        while (seen.length < replicas.length) {
          const id = ring.ownerAt(i);
          if (!seen.includes(id)) seen.push(id);
          i = (i + 1) % ring.size;
        }
        expect(replicas).toEqual(seen);
      }),
      { numRuns: 300 },
    );
  });

  it('is the same ring whatever order the members arrive in (same checksum, same owners)', () => {
    fc.assert(
      fc.property(membersArb(), fc.infiniteStream(fc.nat()), tokenArb, (members, randomness, probe) => {
        const shuffled = [...members];
        const it = randomness[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = it.next().value! % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
        }
        const a = TokenRing.build(members);
        const b = TokenRing.build(shuffled.map((m) => ({ ...m, tokens: Array.from(m.tokens).reverse() })));
        expect(b.checksum).toBe(a.checksum);
        expect(Array.from(b.tokens)).toEqual(Array.from(a.tokens));
        expect(b.nodeForToken(probe)).toBe(a.nodeForToken(probe));
      }),
      { numRuns: 300 },
    );
  });

  it('tells different rings apart by checksum', () => {
    const a = TokenRing.build([
      { id: 'a', status: 'up', tokens: [10, 20] },
      { id: 'b', status: 'up', tokens: [30] },
    ]);
    const swapped = TokenRing.build([
      { id: 'b', status: 'up', tokens: [10, 20] },
      { id: 'a', status: 'up', tokens: [30] },
    ]);
    const moved = TokenRing.build([
      { id: 'a', status: 'up', tokens: [10, 21] },
      { id: 'b', status: 'up', tokens: [30] },
    ]);
    expect(new Set([a.checksum, swapped.checksum, moved.checksum, TokenRing.EMPTY.checksum]).size).toBe(4);
  });

  it('lets only up and leaving members own, and drops a member someone replaced', () => {
    const ring = TokenRing.build([
      { id: 'up', status: 'up', tokens: [100] },
      { id: 'leaving', status: 'leaving', tokens: [200] },
      { id: 'joining', status: 'joining', tokens: [300] },
      { id: 'down', status: 'down', tokens: [400] },
      { id: 'left', status: 'left', tokens: [500] },
      { id: 'old', status: 'up', tokens: [600] },
      { id: 'new', status: 'up', tokens: [600], replaces: 'old' },
    ]);
    expect(ring.nodeIds).toEqual(['leaving', 'new', 'up']);
    expect(ring.nodeForToken(150)).toBe('leaving');
    expect(ring.nodeForToken(450)).toBe('new');
    expect(ring.nodeForToken(601)).toBe('up');
    expect(ring.collisions).toEqual([]);
  });

  it('gives a token two nodes claim to the smaller id, and reports the collision', () => {
    const ring = TokenRing.build([
      { id: 'b', status: 'up', tokens: [5, 9] },
      { id: 'a', status: 'up', tokens: [5] },
    ]);
    expect(ring.nodeForToken(5)).toBe('a');
    expect(ring.collisions).toEqual([{ token: 5, winner: 'a', loser: 'b' }]);
    const lostAll = TokenRing.build([
      { id: 'b', status: 'up', tokens: [5] },
      { id: 'a', status: 'up', tokens: [5] },
    ]);
    expect(lostAll.nodeIds).toEqual(['a']);
    expect(lostAll.ownership()).toEqual({ a: 1 });
  });

  it('treats a one-token ring as the whole circle', () => {
    const ring = TokenRing.build([{ id: 'solo', status: 'up', tokens: [42] }]);
    expect(ring.rangesOf('solo')).toEqual([{ start: 42, end: 42 }]);
    expect(ring.ownership()).toEqual({ solo: 1 });
    expect(ring.nodeFor('anything')).toBe('solo');
  });

  it('refuses tokens outside 32 bits and duplicate members, naming them', () => {
    expect(() => TokenRing.build([{ id: 'x', status: 'up', tokens: [2 ** 32] }])).toThrow(/"x".*4294967296/);
    expect(() => TokenRing.build([{ id: 'x', status: 'up', tokens: [1.5] }])).toThrow(/"x"/);
    expect(() =>
      TokenRing.build([
        { id: 'x', status: 'up', tokens: [1] },
        { id: 'x', status: 'up', tokens: [2] },
      ]),
    ).toThrow(/"x" listed twice/);
  });

  it('looks keys up by their token', () => {
    const ring = TokenRing.build([
      { id: 'a', status: 'up', tokens: [0, 2 ** 31] },
      { id: 'b', status: 'up', tokens: [2 ** 30, 3 * 2 ** 30] },
    ]);
    for (const key of ['x', 'user:1', '日本']) expect(ring.nodeFor(key)).toBe(ring.nodeForToken(tokenOf(key)));
  });
});
