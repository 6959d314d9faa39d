import { TOKEN_SPACE, tokenOf } from './hash.js';
import type { RingMember, TokenRange } from './ring.types.js';

/** Two owning members claimed the same token; the smaller id keeps it. */
export interface TokenCollision {
  token: number;
  winner: string;
  loser: string;
}

const OWNING = new Set(['up', 'leaving']);

/** Whether a member with this status owns ranges. */
export function ownsRanges(status: string): boolean {
  return OWNING.has(status);
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * The ring: every owning member's tokens in one sorted Uint32Array, with the owner of each position
 * beside it. A lookup is a bucket-table jump to within a few positions, then a short binary search;
 * nothing ever scans. Immutable: a membership change builds a new ring.
 */
export class TokenRing {
  static readonly EMPTY = TokenRing.build([]);

  /** Sorted, distinct tokens. */
  readonly tokens: Uint32Array;
  /** Index into `nodeIds` of the owner of each token. */
  readonly owners: Uint32Array;
  /** Owning node ids, sorted. */
  readonly nodeIds: readonly string[];
  private checksumValue: number | undefined;
  readonly collisions: readonly TokenCollision[];
  private readonly ownerIdAt: string[];
  private readonly bucketShift: number;
  private readonly buckets: Uint32Array;
  private rangesCache: Map<string, TokenRange[]> | undefined;
  private loadsCache: Float64Array | undefined;

  private constructor(tokens: Uint32Array, owners: Uint32Array, nodeIds: string[], collisions: TokenCollision[]) {
    this.tokens = tokens;
    this.owners = owners;
    this.nodeIds = nodeIds;
    this.collisions = collisions;
    const ownerIdAt: string[] = new Array<string>(owners.length);
    for (let i = 0; i < owners.length; i++) ownerIdAt[i] = nodeIds[owners[i]];
    this.ownerIdAt = ownerIdAt;
    // About two buckets per token, at most 2^16: the bucket of a token almost always holds 0 or 1 tokens.
    const bits = Math.min(16, Math.max(4, Math.ceil(Math.log2(Math.max(1, tokens.length))) + 1));
    this.bucketShift = 32 - bits;
    const count = 1 << bits;
    // buckets[b] = index of the first token whose bucket is >= b; buckets[count] = tokens.length.
    this.buckets = new Uint32Array(count + 1);
    let i = 0;
    for (let b = 0; b <= count; b++) {
      while (i < tokens.length && tokens[i] >>> this.bucketShift < b) i++;
      this.buckets[b] = i;
    }
  }

  /** Same content, same checksum, on every node (computed on first use: the planner's intermediate rings never need it). */
  get checksum(): number {
    if (this.checksumValue === undefined) {
      let h = this.tokens.length;
      const idHashes = this.nodeIds.map((id) => tokenOf(id));
      for (let p = 0; p < this.tokens.length; p++) h = mix(mix(h, this.tokens[p]), idHashes[this.owners[p]]);
      this.checksumValue = h >>> 0;
    }
    return this.checksumValue;
  }

  /**
   * Builds the ring of the members that own ranges (`up`, `leaving`), leaving out anyone another
   * member has replaced. Same members in any order give the same ring.
   */
  static build(members: Iterable<RingMember>): TokenRing {
    const list = [...members];
    const replaced = new Set<string>();
    for (const m of list) if (m.replaces && ownsRanges(m.status)) replaced.add(m.replaces);
    const owning = list.filter((m) => ownsRanges(m.status) && !replaced.has(m.id) && m.tokens.length > 0);
    const byId = new Map<string, RingMember>();
    for (const m of owning) {
      if (byId.has(m.id)) throw new Error(`ring: member ${JSON.stringify(m.id)} listed twice`);
      byId.set(m.id, m);
    }
    const nodeIds = [...byId.keys()].sort();
    let total = 0;
    for (const m of owning) total += m.tokens.length;
    // Pack (token, owner) into one float64 so one numeric sort orders by token, then by owner index
    // (ids are sorted, so the smaller id comes first and wins a collision).
    const packed = new Float64Array(total);
    let k = 0;
    nodeIds.forEach((id, owner) => {
      const tokens = byId.get(id)!.tokens;
      for (let i = 0; i < tokens.length; i++) {
        const t = tokens[i];
        if (!Number.isInteger(t) || t < 0 || t >= TOKEN_SPACE)
          throw new Error(`ring: member ${JSON.stringify(id)} has token ${t}, not an unsigned 32-bit integer`);
        packed[k++] = t * 65536 + owner;
      }
    });
    if (nodeIds.length > 65536) throw new Error('ring: more than 65536 owning members');
    packed.sort();
    const tokens = new Uint32Array(total);
    const owners = new Uint32Array(total);
    const collisions: TokenCollision[] = [];
    let n = 0;
    for (let i = 0; i < total; i++) {
      const t = Math.floor(packed[i] / 65536);
      const owner = packed[i] - t * 65536;
      if (n > 0 && tokens[n - 1] === t) {
        if (owners[n - 1] !== owner)
          collisions.push({ token: t, winner: nodeIds[owners[n - 1]], loser: nodeIds[owner] });
        continue;
      }
      tokens[n] = t;
      owners[n] = owner;
      n++;
    }
    // A node whose every token was lost in collisions owns nothing; keep nodeIds to the real owners.
    const used = new Uint8Array(nodeIds.length);
    for (let i = 0; i < n; i++) used[owners[i]] = 1;
    if (used.every((u) => u === 1)) return new TokenRing(tokens.slice(0, n), owners.slice(0, n), nodeIds, collisions);
    const remap = new Int32Array(nodeIds.length);
    const kept: string[] = [];
    nodeIds.forEach((id, i) => (remap[i] = used[i] ? kept.push(id) - 1 : -1));
    const remapped = owners.slice(0, n).map((o) => remap[o]);
    return new TokenRing(tokens.slice(0, n), remapped, kept, collisions);
  }

  /**
   * This ring with one more owning member: a merge of sorted arrays (linear), not a rebuild, for the
   * cohort planner that adds joiners one at a time to rings of thousands of tokens. Falls back to a
   * rebuild when `id` is already a member or a token collides.
   */
  plus(id: string, tokens: readonly number[]): TokenRing {
    const added = [...new Set(tokens)].sort((a, b) => a - b);
    let at = 0;
    while (at < this.nodeIds.length && this.nodeIds[at] < id) at++;
    const fallback = (): TokenRing =>
      TokenRing.build([
        ...this.nodeIds.map((n) => ({ id: n, status: 'up', tokens: this.tokensOf(n) })),
        { id, status: 'up', tokens: added },
      ]);
    if (this.nodeIds[at] === id || added.some((t) => !Number.isInteger(t) || t < 0 || t >= TOKEN_SPACE))
      return fallback();
    const total = this.tokens.length + added.length;
    const out = new Uint32Array(total);
    const owners = new Uint32Array(total);
    let i = 0;
    let k = 0;
    for (let n = 0; n < total; n++) {
      if (k < added.length && (i === this.tokens.length || added[k] < this.tokens[i])) {
        out[n] = added[k++];
        owners[n] = at;
      } else {
        if (k < added.length && added[k] === this.tokens[i]) return fallback();
        out[n] = this.tokens[i];
        const o = this.owners[i++];
        owners[n] = o >= at ? o + 1 : o;
      }
    }
    const nodeIds = [...this.nodeIds.slice(0, at), id, ...this.nodeIds.slice(at)];
    return new TokenRing(out, owners, nodeIds, [...this.collisions]);
  }

  get size(): number {
    return this.tokens.length;
  }

  get isEmpty(): boolean {
    return this.tokens.length === 0;
  }

  /** The position whose range holds `token`: the first token >= it, wrapping to 0. -1 when empty. */
  indexOf(token: number): number {
    const tokens = this.tokens;
    if (tokens.length === 0) return -1;
    const b = token >>> this.bucketShift;
    let lo = this.buckets[b];
    let hi = this.buckets[b + 1];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (tokens[mid] < token) lo = mid + 1;
      else hi = mid;
    }
    return lo === tokens.length ? 0 : lo;
  }

  /** The owner of the range holding `token`; undefined when the ring is empty. */
  nodeForToken(token: number): string | undefined {
    return this.ownerIdAt[this.indexOf(token >>> 0)];
  }

  nodeFor(key: string | Uint8Array): string | undefined {
    return this.ownerIdAt[this.indexOf(tokenOf(key))];
  }

  /** Up to `n` distinct owners, the token's owner first, then the next distinct nodes clockwise. */
  replicasForToken(token: number, n: number): string[] {
    const size = this.tokens.length;
    const out: string[] = [];
    if (size === 0 || n <= 0) return out;
    const want = Math.min(n, this.nodeIds.length);
    for (
      let i = this.indexOf(token >>> 0), steps = 0;
      out.length < want && steps < size;
      steps++, i = i + 1 === size ? 0 : i + 1
    ) {
      const id = this.ownerIdAt[i];
      if (!out.includes(id)) out.push(id);
    }
    return out;
  }

  /** Owner of position `i`. */
  ownerAt(i: number): string {
    return this.ownerIdAt[i];
  }

  /** The range ending at position `i`. */
  rangeAt(i: number): TokenRange {
    const size = this.tokens.length;
    return { start: this.tokens[(i - 1 + size) % size], end: this.tokens[i] };
  }

  /** Size (in tokens) of the range ending at position `i`; the whole space for a one-token ring. */
  rangeSizeAt(i: number): number {
    const size = this.tokens.length;
    if (size === 1) return TOKEN_SPACE;
    const prev = this.tokens[(i - 1 + size) % size];
    const d = this.tokens[i] - prev;
    return d > 0 ? d : d + TOKEN_SPACE;
  }

  /** The ranges a node owns, in token order; empty for a node that owns nothing. */
  rangesOf(nodeId: string): TokenRange[] {
    if (!this.rangesCache) {
      const cache = new Map<string, TokenRange[]>();
      for (const id of this.nodeIds) cache.set(id, []);
      for (let i = 0; i < this.tokens.length; i++) cache.get(this.ownerIdAt[i])!.push(this.rangeAt(i));
      this.rangesCache = cache;
    }
    return (this.rangesCache.get(nodeId) ?? []).map((r) => ({ ...r }));
  }

  /** The tokens a node holds in this ring. */
  tokensOf(nodeId: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.tokens.length; i++) if (this.ownerIdAt[i] === nodeId) out.push(this.tokens[i]);
    return out;
  }

  /** Tokens owned by each node, aligned with `nodeIds`. */
  loads(): Float64Array {
    if (!this.loadsCache) {
      const loads = new Float64Array(this.nodeIds.length);
      for (let i = 0; i < this.tokens.length; i++) loads[this.owners[i]] += this.rangeSizeAt(i);
      this.loadsCache = loads;
    }
    return this.loadsCache;
  }

  /** Node id → fraction of the key space it owns (as primary). Sums to 1 unless empty. */
  ownership(): Record<string, number> {
    const loads = this.loads();
    const out: Record<string, number> = {};
    this.nodeIds.forEach((id, i) => (out[id] = loads[i] / TOKEN_SPACE));
    return out;
  }
}
