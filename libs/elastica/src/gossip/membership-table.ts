import type { EndpointState } from './endpoint-state.js';

/** Why an incarnation was forgotten: one dropped as down or by hand may come back early (see readmit). */
export type ForgetReason = 'down' | 'left' | 'replaced' | 'forgotten';

/** Forgotten incarnations remembered at most (the oldest go first): strangers cannot grow it without bound. */
const MAX_FORGOTTEN = 20_000;

/**
 * The incarnations this node knows, one current run per node id, found by id, incarnation ref or
 * address; and those it forgot, refused until a deadline so that old gossip cannot bring them back.
 */
export class MembershipTable {
  private readonly ids = new Map<string, EndpointState>();
  private readonly refs = new Map<number, EndpointState>();
  private readonly addresses = new Map<string, EndpointState>();
  /** Insertion order is age: the oldest is evicted first. */
  private readonly forgotten = new Map<number, { until: number; reason: ForgetReason }>();

  /** Known incarnations, this node's included. */
  get size(): number {
    return this.ids.size;
  }

  get(id: string): EndpointState | undefined {
    return this.ids.get(id);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  byRef(ref: number): EndpointState | undefined {
    return this.refs.get(ref);
  }

  hasRef(ref: number): boolean {
    return this.refs.has(ref);
  }

  byAddress(address: string): EndpointState | undefined {
    return this.addresses.get(address);
  }

  /** Whether `endpoint` is still the incarnation its ref names here (not dropped or replaced since). */
  holds(endpoint: EndpointState): boolean {
    return this.refs.get(endpoint.ref) === endpoint;
  }

  endpoints(): IterableIterator<EndpointState> {
    return this.ids.values();
  }

  nodeIds(): IterableIterator<string> {
    return this.ids.keys();
  }

  register(endpoint: EndpointState): void {
    this.ids.set(endpoint.id, endpoint);
    this.refs.set(endpoint.ref, endpoint);
    this.addresses.set(endpoint.address, endpoint);
  }

  unregister(endpoint: EndpointState): void {
    if (this.ids.get(endpoint.id) === endpoint) this.ids.delete(endpoint.id);
    if (this.refs.get(endpoint.ref) === endpoint) this.refs.delete(endpoint.ref);
    if (this.addresses.get(endpoint.address) === endpoint) this.addresses.delete(endpoint.address);
  }

  /** Unregisters `endpoint` and refuses its incarnation until `until`. */
  forget(endpoint: EndpointState, reason: ForgetReason, until: number): void {
    this.unregister(endpoint);
    this.forgotten.delete(endpoint.ref);
    this.forgotten.set(endpoint.ref, { until, reason });
    if (this.forgotten.size > MAX_FORGOTTEN) this.forgotten.delete(this.forgotten.keys().next().value!);
  }

  /** Refuses an incarnation not (or no longer) known here until `until`, so that gossip cannot bring it in. */
  refuse(ref: number, reason: ForgetReason, until: number): void {
    if (this.refs.has(ref)) return;
    this.forgotten.delete(ref);
    this.forgotten.set(ref, { until, reason });
    if (this.forgotten.size > MAX_FORGOTTEN) this.forgotten.delete(this.forgotten.keys().next().value!);
  }

  isForgotten(ref: number, nowMs: number): boolean {
    const entry = this.forgotten.get(ref);
    if (!entry) return false;
    if (entry.until > nowMs) return true;
    this.forgotten.delete(ref);
    return false;
  }

  /** A dropped-as-down (or forgotten by hand) incarnation that talks to us is alive after all: let gossip bring it back. */
  readmit(ref: number): void {
    const reason = this.forgotten.get(ref)?.reason;
    if (reason === 'down' || reason === 'forgotten') this.forgotten.delete(ref);
  }

  purgeForgotten(nowMs: number): void {
    for (const [ref, entry] of this.forgotten) if (entry.until <= nowMs) this.forgotten.delete(ref);
  }

  /**
   * The incarnation to forget to make room at gossip.maxMembers (docs/ARCHITECTURE.md, Gossip › One
   * exchange), or undefined when the table is full of the living.
   */
  evictable(self: EndpointState, nowMs: number, firstContactMs: number): EndpointState | undefined {
    let oldest: EndpointState | undefined;
    let oldestSince = Infinity;
    for (const endpoint of this.ids.values()) {
      if (endpoint === self || !(endpoint.announced === 'left' || endpoint.down)) continue;
      const since =
        endpoint.announced === 'left' ? endpoint.leftSince : Math.max(endpoint.downSince, endpoint.lastNewsAt);
      if (endpoint.announced !== 'left' && nowMs - since < firstContactMs) continue;
      if (since < oldestSince) {
        oldest = endpoint;
        oldestSince = since;
      }
    }
    return oldest;
  }
}
