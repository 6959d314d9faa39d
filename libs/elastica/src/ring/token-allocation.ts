import { TOKEN_SPACE, tokenOf } from './hash.js';
import { TokenRing } from './token-ring.js';

/**
 * Token choice for a node joining `ring` (the ring as the joiner sees it, built from the members that
 * hold tokens): it takes its fair share, 1/(N+1) of the key space, from the most loaded nodes, by
 * cutting pieces off the front of their largest ranges. Every new token lies inside an existing range,
 * so keys move only from old nodes to the newcomer, never between two old nodes.
 *
 * Pure and deterministic: same ring, same id, same tokens. The id salts a small jitter in where each
 * cut falls, so two nodes joining at once from the same view do not pick the same tokens.
 */
export function allocateTokens(
  ring: TokenRing,
  nodeId: string,
  vnodes: number,
  exclude: ReadonlySet<number> = new Set(),
  density?: ReadonlyMap<string, number>,
): number[] {
  if (!Number.isInteger(vnodes) || vnodes <= 0)
    throw new Error(`allocateTokens: vnodes must be a positive integer, got ${vnodes}`);
  if (ring.isEmpty) return firstNodeTokens(nodeId, vnodes, exclude);

  const nodes = ring.nodeIds.length;
  // Load = key space x density (measured load per unit of key space; 1 when not measured), so the
  // pieces come from the nodes holding the most data, while the joiner's key-space share stays 1/(N+1).
  const dens = Float64Array.from(ring.nodeIds, (id) => Math.max(1 / 64, density?.get(id) ?? 1));
  const loads = Float64Array.from(ring.loads(), (l, j) => l * dens[j]);
  const need = TOKEN_SPACE / (nodes + 1);

  // Each node's ranges (positions), largest first, so its next piece comes from its largest unused
  // range; sorted only for the few nodes that donate (at most vnodes), which at N = 1000 is most of the cost.
  const rangesOf: number[][] = ring.nodeIds.map(() => []);
  for (let i = 0; i < ring.size; i++) rangesOf[ring.owners[i]].push(i);
  const sorted = new Uint8Array(nodes);
  const rangeAt = (j: number, k: number): number => {
    if (!sorted[j]) {
      rangesOf[j].sort((a, b) => ring.rangeSizeAt(b) - ring.rangeSizeAt(a) || a - b);
      sorted[j] = 1;
    }
    return rangesOf[j][k];
  };

  // 1. Which ranges to cut: one piece at a time from the node that would be heaviest after the pieces
  //    already planned (each planned piece counted as need/vnodes), until vnodes pieces are planned.
  const planned = new Float64Array(nodes);
  const used = new Int32Array(nodes);
  const heap = new MaxHeap(
    nodes,
    (j) => loads[j] - planned[j],
    (a, b) => a - b,
  );
  for (let j = 0; j < nodes; j++) heap.push(j);
  const pieces: { donor: number; position: number }[] = [];
  while (pieces.length < vnodes && heap.size > 0) {
    const j = heap.pop();
    pieces.push({ donor: j, position: rangeAt(j, used[j]) });
    used[j]++;
    planned[j] += (need / vnodes) * dens[j];
    if (used[j] < rangesOf[j].length) heap.push(j);
  }

  // 2. How much each donor gives: water-filling, so the donors come down to one common level w with
  //    the newcomer taking `need` in all; a donor gives at most (nearly) all of its chosen ranges.
  const capOf = new Float64Array(nodes);
  const donors: number[] = [];
  for (const p of pieces) {
    if (capOf[p.donor] === 0) donors.push(p.donor);
    capOf[p.donor] += Math.max(0, ring.rangeSizeAt(p.position) - 2);
  }
  // Key space given at data level w: a donor gives (its load above w) / its density, up to its cap.
  const given = (w: number) =>
    donors.reduce((s, j) => s + Math.min(capOf[j], Math.max(0, (loads[j] - w) / dens[j])), 0);
  let lo = 0;
  let hi = donors.reduce((m, j) => Math.max(m, loads[j]), 0);
  for (let iter = 0; iter < 64 && hi - lo > 1e-3; iter++) {
    const mid = (lo + hi) / 2;
    if (given(mid) > need) lo = mid;
    else hi = mid;
  }
  const gift = new Float64Array(nodes);
  for (const j of donors) gift[j] = Math.min(capOf[j], Math.max(0, (loads[j] - hi) / dens[j]));

  // 3. Cut: a donor's gift is shared among its pieces in proportion to their sizes; the new token sits
  //    that far past the start of the range, give or take a jitter of 1/64 salted by the joiner's id.
  // Taken: the ring's tokens (found by its own lookup), the excluded ones and those picked here.
  const picked = new Set<number>();
  const taken = {
    has: (t: number) => picked.has(t) || exclude.has(t) || ring.tokens[ring.indexOf(t)] === t,
    add: (t: number) => picked.add(t),
  };
  const out: number[] = [];
  pieces.forEach((p, k) => {
    const size = ring.rangeSizeAt(p.position);
    const share = capOf[p.donor] > 0 ? (gift[p.donor] * Math.max(0, size - 2)) / capOf[p.donor] : 0;
    const jitter = 1 + ((tokenOf(`${nodeId}#${k}`) / TOKEN_SPACE) * 2 - 1) / 64;
    const amount = Math.min(size - 1, Math.max(1, Math.round(share * jitter)));
    const start = ring.tokens[(p.position - 1 + ring.size) % ring.size];
    out.push(freeToken((start + amount) % TOKEN_SPACE, taken));
  });
  // Fewer ranges than vnodes in the whole ring (tiny clusters): the rest go to the largest gaps left.
  while (out.length < vnodes) out.push(freeToken(tokenOf(`${nodeId}#extra${out.length}`), taken));
  return out.sort((a, b) => a - b);
}

/** The first node of a cluster: evenly spaced tokens, rotated by its id. */
export function firstNodeTokens(nodeId: string, vnodes: number, exclude: ReadonlySet<number> = new Set()): number[] {
  const offset = tokenOf(nodeId);
  const taken = new Set<number>(exclude);
  const out: number[] = [];
  for (let i = 0; i < vnodes; i++)
    out.push(freeToken(Math.floor(offset + (i * TOKEN_SPACE) / vnodes) % TOKEN_SPACE, taken));
  return out.sort((a, b) => a - b);
}

function freeToken(token: number, taken: { has(t: number): boolean; add(t: number): unknown }): number {
  while (taken.has(token)) token = (token + 1) % TOKEN_SPACE;
  taken.add(token);
  return token;
}

/** A binary max-heap of small integers ordered by a key read at push/pop time. */
class MaxHeap {
  private readonly items: Int32Array;
  private readonly keys: Float64Array;
  size = 0;
  constructor(
    capacity: number,
    private readonly keyOf: (item: number) => number,
    private readonly tieBreak: (a: number, b: number) => number,
  ) {
    this.items = new Int32Array(capacity);
    this.keys = new Float64Array(capacity);
  }
  private above(a: number, b: number): boolean {
    const ka = this.keys[a],
      kb = this.keys[b];
    return ka > kb || (ka === kb && this.tieBreak(this.items[a], this.items[b]) < 0);
  }
  private swap(a: number, b: number): void {
    const i = this.items[a],
      k = this.keys[a];
    this.items[a] = this.items[b]!;
    this.keys[a] = this.keys[b]!;
    this.items[b] = i;
    this.keys[b] = k;
  }
  push(item: number): void {
    let i = this.size++;
    this.items[i] = item;
    this.keys[i] = this.keyOf(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.above(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): number {
    const top = this.items[0];
    this.size--;
    if (this.size > 0) {
      this.items[0] = this.items[this.size]!;
      this.keys[0] = this.keys[this.size]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let best = i;
        if (l < this.size && this.above(l, best)) best = l;
        if (r < this.size && this.above(r, best)) best = r;
        if (best === i) break;
        this.swap(i, best);
        i = best;
      }
    }
    return top;
  }
}
