import { tokenOf } from 'elastica';
import { KV_GET, KV_PUT, KV_SYNC_DIGEST, KV_SYNC_OFFER, KV_SYNC_PULL, KV_SYNC_PUSH } from '../kv-messages.js';
import { DEFAULT_KV_OPTIONS, KvNode, type KvCluster, type KvNodeOptions, type PeerCaller } from '../kv-node.js';

/**
 * Test-only: several KvNodes wired to each other in memory, with a small consistent-hash ring of its
 * own (the real one is Elastica's PartitionerService). Messages cross a JSON round trip, as on the wire,
 * and are delivered asynchronously. As with the real ring, only members that are up own ranges: a member
 * can be killed (calls to it fail and, once convicted, the ring drops it, while it still counts as a
 * member of the cluster), cut off (calls fail but nobody has convicted it yet, so it stays on the ring),
 * brought back with or without its memory, added or removed from the ring (joined, decommissioned).
 */
export class InMemoryCluster {
  readonly nodes = new Map<string, KvNode>();
  /** Calls to and from these fail (killed or cut off). */
  private readonly unreachable = new Set<string>();
  /** Killed and convicted: off the ring, still members. */
  private readonly down = new Set<string>();
  private members: string[] = [];
  /** Rings already built, by member list (a few at a time: the live ring, and it without a leaving node). */
  private readonly rings = new Map<string, { token: number; id: string }[]>();
  nowMs = 1_000_000;
  messages = 0;

  constructor(
    private readonly replicationFactor = 3,
    private readonly options: KvNodeOptions = { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0 },
  ) {}

  /** Adds a member to the ring and starts it (empty), with options of its own if given. */
  add(id: string, options?: KvNodeOptions): KvNode {
    if (!this.members.includes(id)) this.members.push(id);
    return this.start(id, options);
  }

  /** Starts (or restarts, losing its memory) a member: it is up, so back on the ring. */
  start(id: string, options: KvNodeOptions = this.options): KvNode {
    return this.install(id, new KvNode(this.view(id), this.caller(id), () => this.nowMs, options));
  }

  /**
   * Adds a member whose KvNode is built elsewhere from this cluster's peer calls for it (the app's
   * KvStoreService builds its own, around its own cluster adapter), so the app's wiring runs against
   * in-memory peers. It is up and on the ring, as a member `add`ed.
   */
  adopt(id: string, build: (peers: PeerCaller) => KvNode): KvNode {
    if (!this.members.includes(id)) this.members.push(id);
    return this.install(id, build(this.caller(id)));
  }

  private install(id: string, node: KvNode): KvNode {
    this.nodes.set(id, node);
    this.unreachable.delete(id);
    this.down.delete(id);
    this.ringChanged();
    return node;
  }

  /** The member crashed and the others convicted it: calls to it fail and the ring drops it (ranges move on). */
  kill(id: string): void {
    this.unreachable.add(id);
    this.down.add(id);
    this.ringChanged();
  }

  /** Makes a member unreachable (calls to and from it fail) while the others still count it up. */
  cut(id: string): void {
    this.unreachable.add(id);
  }

  /** Brings a killed or cut-off member back with its memory (a pause or a partition healed, not a restart). */
  revive(id: string): void {
    this.unreachable.delete(id);
    if (this.down.delete(id)) this.ringChanged();
  }

  /** Takes a member out of the ring and the cluster (after a decommission). */
  remove(id: string): void {
    this.members = this.members.filter((m) => m !== id);
    this.nodes.delete(id);
    this.unreachable.delete(id);
    this.down.delete(id);
    this.ringChanged();
  }

  node(id: string): KvNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /** The key's replicas on the ring of the members that are up (or of `members`, when given). */
  replicasOf(key: string, members = this.ringOwners(), count = this.replicationFactor): string[] {
    const ring = this.buildRing(members);
    const out: string[] = [];
    if (ring.length === 0) return out;
    const h = tokenOf(key);
    let i = ring.findIndex((t) => t.token >= h);
    if (i < 0) i = 0;
    for (let step = 0; step < ring.length && out.length < Math.min(count, members.length); step++) {
      const { id } = ring[(i + step) % ring.length];
      if (!out.includes(id)) out.push(id);
    }
    return out;
  }

  /** Runs a placement round on every live node, `rounds` times. */
  async settle(rounds = 2): Promise<void> {
    for (let r = 0; r < rounds; r++) {
      for (const [id, node] of this.nodes) if (!this.unreachable.has(id)) await node.placementRound();
    }
  }

  /** Ids of live nodes holding a copy of `key`. */
  holders(key: string): string[] {
    return [...this.nodes]
      .filter(([id, n]) => !this.unreachable.has(id) && n.storage.get(key)?.value !== undefined)
      .map(([id]) => id);
  }

  private buildRing(members: string[]): { token: number; id: string }[] {
    const id = members.join('\u0000');
    let ring = this.rings.get(id);
    if (ring === undefined) {
      if (this.rings.size >= 16) this.rings.clear();
      this.rings.set(id, (ring = this.tokensOf(members)));
    }
    return ring;
  }

  private tokensOf(members: string[]): { token: number; id: string }[] {
    return members
      .flatMap((id) => Array.from({ length: 8 }, (_, v) => ({ token: tokenOf(`${id}#${v}`), id })))
      .sort((a, b) => a.token - b.token);
  }

  /** Members that own ranges: those not convicted down (the real ring: `up` and `leaving`). */
  private ringOwners(): string[] {
    return this.members.filter((m) => !this.down.has(m));
  }

  /** The ring changed: every node hears of it, as the app's nodes do through `ring$`. */
  private ringChanged(): void {
    for (const n of this.nodes.values()) n.noteRingChange();
  }

  private view(self: string): KvCluster {
    return {
      self,
      replicationFactor: this.replicationFactor,
      ringMembers: () => this.members.length,
      replicasOf: (key) => this.replicasOf(key),
      candidatesOf: (key) => this.replicasOf(key, this.ringOwners(), this.replicationFactor + 2),
      replicasWithout: (key, nodeId) =>
        this.replicasOf(
          key,
          this.ringOwners().filter((m) => m !== nodeId),
        ),
      isReachable: (id) => this.members.includes(id) && !this.unreachable.has(id),
      peers: () => this.members.filter((m) => m !== self && !this.unreachable.has(m)),
    };
  }

  private caller(from: string): PeerCaller {
    return {
      call: async <T>(to: string, pattern: string, payload: unknown): Promise<T> => {
        await Promise.resolve();
        if (this.unreachable.has(to) || this.unreachable.has(from)) throw new Error(`${to} is unreachable`);
        const target = this.nodes.get(to);
        if (!target) throw new Error(`${to} is not a member`);
        this.messages++;
        const wire = JSON.parse(JSON.stringify(payload)) as unknown;
        const reply = ((): unknown => {
          switch (pattern) {
            case KV_PUT:
              return target.onPut(wire);
            case KV_GET:
              return target.onGet(wire);
            case KV_SYNC_DIGEST:
              return target.onDigest(from, wire);
            case KV_SYNC_PULL:
              return target.onPull(wire);
            case KV_SYNC_PUSH:
              return target.onPush(wire);
            case KV_SYNC_OFFER:
              return target.onOffer(wire);
            default:
              throw new Error(`no handler for ${pattern}`);
          }
        })();
        // onPut and onPush answer once the copies are durable: a promise, as over the real transport.
        const settled = await reply;
        return JSON.parse(JSON.stringify(settled)) as T;
      },
    };
  }
}
