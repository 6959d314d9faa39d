import { TOKEN_SPACE } from './hash.js';
import { allocateTokens } from './token-allocation.js';
import { TokenRing } from './token-ring.js';

/**
 * Measured load inside this fraction of what a node's key space predicts counts as key space: uniformly
 * spread keys put about the same data in every range, and the noise of that (plus the lag of reports)
 * must not tilt the ring. ±25% is about three standard deviations of the key count of a node holding
 * 150 or more keys; real skew (a hot range, large values in one place) is well past it.
 */
export const LOAD_MARGIN = 0.25;

/**
 * Load per unit of key space, relative to the cluster's median, for the nodes of `ring` whose load
 * differs from proportional by more than LOAD_MARGIN; absent means "proportional" (density 1). Rounded
 * to quarters so that small drifts in reported load do not change the plan other joiners compute.
 * Empty when no node reported a positive load: key space is the load.
 */
export function loadDensities(ring: TokenRing, loads: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  const keyspace = ring.loads();
  const per: { id: string; d: number }[] = [];
  ring.nodeIds.forEach((id, j) => {
    const load = loads.get(id);
    if (load !== undefined && Number.isFinite(load) && load >= 0 && keyspace[j] > 0)
      per.push({ id, d: load / (keyspace[j] / TOKEN_SPACE) });
  });
  if (per.length === 0) return out;
  const sorted = per.map((p) => p.d).sort((a, b) => a - b);
  const median = sorted[(sorted.length - 1) >> 1];
  if (!(median > 0)) {
    // Most nodes report nothing yet: only a clear majority of data counts, compared with the mean.
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    if (!(mean > 0)) return out;
    for (const p of per) if (p.d / mean > 1 + LOAD_MARGIN) out.set(p.id, quantize(p.d / mean));
    return out;
  }
  for (const p of per) {
    const rel = p.d / median;
    if (Math.abs(rel - 1) > LOAD_MARGIN) out.set(p.id, quantize(rel));
  }
  return out;
}

function quantize(rel: number): number {
  return Math.max(0.25, Math.min(64, Math.round(rel * 4) / 4));
}

/** Memoised plans, keyed by their inputs: nodes deciding from the same view compute a plan once (the simulator shares one). */
export type CohortCache = Map<string, ReadonlyMap<string, number[]>>;

export interface CohortInputs {
  /** The ring of the settled members: their tokens are not recomputed. */
  base: TokenRing;
  /** Joiners to place, in the order they are placed (duplicates ignored). */
  cohort: readonly string[];
  vnodes: number;
  /** Tokens nobody may take (every token in the view outside the cohort). */
  exclude?: ReadonlySet<number>;
  /** As `loadDensities` returns for the base. */
  density?: ReadonlyMap<string, number>;
}

/**
 * Tokens for every joiner of a cohort: as if they joined one after the other in the order given, each by
 * `allocateTokens` on the ring the previous ones made. A pure function of its inputs, so joiners that
 * share a view agree on the whole division without waiting for each other; each keeps its own part.
 */
export function allocateCohort(inputs: CohortInputs, cache?: CohortCache, key?: string): ReadonlyMap<string, number[]> {
  if (cache && key !== undefined) {
    const hit = cache.get(key);
    if (hit) return hit;
  }
  const cohort = [...new Set(inputs.cohort)];
  const exclude = new Set(inputs.exclude ?? []);
  const density = inputs.density && inputs.density.size > 0 ? new Map(inputs.density) : undefined;
  let ring = inputs.base;
  const out = new Map<string, number[]>();
  for (const id of cohort) {
    const tokens = allocateTokens(ring, id, inputs.vnodes, exclude, density);
    for (const t of tokens) exclude.add(t);
    out.set(id, tokens);
    const next = ring.plus(id, tokens);
    if (density) density.set(id, inheritedDensity(ring, next, id, density));
    ring = next;
  }
  if (cache && key !== undefined) {
    if (cache.size > 256) cache.delete(cache.keys().next().value!);
    cache.set(key, out);
  }
  return out;
}

/** A joiner's ranges carry the data density of the nodes they came from. */
function inheritedDensity(
  before: TokenRing,
  after: TokenRing,
  id: string,
  density: ReadonlyMap<string, number>,
): number {
  let weighted = 0;
  let total = 0;
  for (const { start, end } of after.rangesOf(id)) {
    const size = end > start ? end - start : end - start + TOKEN_SPACE;
    const from = before.nodeForToken(end);
    weighted += size * (from === undefined ? 1 : (density.get(from) ?? 1));
    total += size;
  }
  return total > 0 ? Math.round((weighted / total) * 4) / 4 : 1;
}
