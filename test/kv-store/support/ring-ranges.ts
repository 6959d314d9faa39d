/** Ranges per owner as `GET /cluster` gives them: (start, end] fractions of the ring, none wrapping. */
export type Ranges = Record<string, [number, number][]>;

/** The owner of the point `p` in [0, 1). */
export function ownerAt(ranges: Ranges, p: number): string | undefined {
  for (const [id, list] of Object.entries(ranges)) for (const [s, e] of list) if (s < p && p <= e) return id;
  return undefined;
}

/**
 * What changed owner from `before` to `after`, exactly: both rings' boundaries cut [0, 1) into pieces
 * and each piece whose owner changed counts whole. Fractions of the ring, by giver and by taker.
 */
export function moved(
  before: Ranges,
  after: Ranges,
): { total: number; from: Map<string, number>; to: Map<string, number> } {
  const cuts = new Set<number>([0, 1]);
  for (const r of [before, after]) for (const list of Object.values(r)) for (const [s, e] of list) cuts.add(s).add(e);
  const sorted = [...cuts].sort((a, b) => a - b);
  const from = new Map<string, number>();
  const to = new Map<string, number>();
  let total = 0;
  for (let i = 1; i < sorted.length; i++) {
    const size = sorted[i] - sorted[i - 1];
    if (size <= 0) continue;
    const mid = (sorted[i] + sorted[i - 1]) / 2;
    const a = ownerAt(before, mid);
    const b = ownerAt(after, mid);
    if (a === b) continue;
    total += size;
    if (a !== undefined) from.set(a, (from.get(a) ?? 0) + size);
    if (b !== undefined) to.set(b, (to.get(b) ?? 0) + size);
  }
  return { total, from, to };
}
