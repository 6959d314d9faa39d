import { TOKEN_SPACE } from './hash.js';
import type { MovedRange } from './ring.types.js';
import type { TokenRing } from './token-ring.js';

/**
 * Which ranges changed owner between two rings. Both rings' tokens cut the circle into elementary
 * pieces; each piece has one owner before and one after. Pieces whose owner changed are reported,
 * adjacent pieces with the same (from, to) merged. Linear in the two rings' sizes.
 */
export function diffRings(before: TokenRing, after: TokenRing): MovedRange[] {
  if (before.isEmpty && after.isEmpty) return [];
  if (before.isEmpty || after.isEmpty) {
    const ring = before.isEmpty ? after : before;
    // Everything moved to or from nobody; report it range by range of the non-empty ring.
    return mergeAdjacent(
      Array.from({ length: ring.size }, (_, i) => ({
        range: ring.rangeAt(i),
        from: before.isEmpty ? null : ring.ownerAt(i),
        to: before.isEmpty ? ring.ownerAt(i) : null,
      })),
    );
  }
  // Every boundary of either ring, in order; piece k is (cuts[k-1], cuts[k]] (wrapping for k = 0).
  const cuts = mergeSorted(before.tokens, after.tokens);
  const out: MovedRange[] = [];
  let ib = before.indexOf(cuts[0]);
  let ia = after.indexOf(cuts[0]);
  for (let k = 0; k < cuts.length; k++) {
    const end = cuts[k];
    // The owner of (prev, end] is the owner of the first token >= end, in each ring.
    while (before.tokens[ib] < end && ib < before.size - 1) ib++;
    while (after.tokens[ia] < end && ia < after.size - 1) ia++;
    const from = before.tokens[ib] >= end ? before.ownerAt(ib) : before.ownerAt(0);
    const to = after.tokens[ia] >= end ? after.ownerAt(ia) : after.ownerAt(0);
    if (from !== to) out.push({ range: { start: cuts[(k - 1 + cuts.length) % cuts.length], end }, from, to });
  }
  return mergeAdjacent(out);
}

/** The fraction of the key space covered by `moved`. */
export function movedFraction(moved: readonly MovedRange[]): number {
  let total = 0;
  for (const m of moved) {
    const d = m.range.end - m.range.start;
    total += d > 0 ? d : d + TOKEN_SPACE;
  }
  return total / TOKEN_SPACE;
}

function mergeSorted(a: Uint32Array, b: Uint32Array): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i++] : b[j++];
    if (out.length === 0 || out[out.length - 1] !== next) out.push(next);
  }
  return out;
}

function mergeAdjacent(moves: MovedRange[]): MovedRange[] {
  const out: MovedRange[] = [];
  for (const m of moves) {
    const last = out[out.length - 1];
    if (last && last.from === m.from && last.to === m.to && last.range.end === m.range.start)
      last.range.end = m.range.end;
    else out.push({ range: { ...m.range }, from: m.from, to: m.to });
  }
  // The circle closes: the last piece may continue into the first.
  if (out.length > 1) {
    const first = out[0];
    const last = out[out.length - 1];
    if (last.from === first.from && last.to === first.to && last.range.end === first.range.start) {
      first.range.start = last.range.start;
      out.pop();
    }
  }
  return out;
}
