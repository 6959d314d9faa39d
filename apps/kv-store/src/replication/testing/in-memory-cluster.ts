import { fnv1a } from '../../store/hash.js';
import { KV_GET, KV_PUT, KV_SYNC_DIGEST, KV_SYNC_PULL, KV_SYNC_PUSH } from '../kv-messages.js';
import { DEFAULT_KV_OPTIONS, KvNode, type KvCluster, type KvNodeOptions, type PeerCaller } from '../kv-node.js';

/**
 * Test-only: several KvNodes wired to each other in memory, with a small consistent-hash ring of its
 * own (the real one is Elastica's PartitionerService). Messages cross a JSON round trip, as on the wire,
 * and are delivered asynchronously; a node can be taken down (calls to it fail, as the transport's do),
 * brought back empty (a restart loses memory), added or removed from the ring.
 */
export class InMemoryCluster {
  readonly nodes = new Map<string, KvNode>();
  private readonly down = new Set<string>();
  private ring: { token: number; id: string }[] = [];
  private members: string[] = [];
  nowMs = 1_000_000;
  messages = 0;

  constructor(
    private readonly replicationFactor = 3,
    private readonly options: KvNodeOptions = { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0 },
  ) {}

  /** Adds a member to the ring and starts it (empty). */
  add(id: string): KvNode {
    if (!this.members.includes(id)) this.members.push(id);
    this.rebuildRing();
    return this.start(id);
  }

  /** Starts (or restarts, losing its memory) a member already in the ring. */
  start(id: string): KvNode {
    const node = new KvNode(this.view(id), this.caller(id), () => this.nowMs, this.options);
    this.nodes.set(id, node);
    this.down.delete(id);
    for (const n of this.nodes.values()) n.noteRingChange();
    return node;
  }

  kill(id: string): void {
    this.down.add(id);
  }

  /** Makes a member unreachable (calls to and from it fail) while the others still count it up. */
  cut(id: string): void {
    this.down.add(id);
  }

  /** Brings a killed member back with its memory (a pause or a partition healed, not a restart). */
  revive(id: string): void {
    this.down.delete(id);
  }

  /** Takes a member out of the ring (after a decommission). */
  remove(id: string): void {
    this.members = this.members.filter((m) => m !== id);
    this.nodes.delete(id);
    this.rebuildRing();
    for (const n of this.nodes.values()) n.noteRingChange();
  }

  node(id: string): KvNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  replicasOf(key: string, members = this.members, count = this.replicationFactor): string[] {
    const ring = members === this.members ? this.ring : this.buildRing(members);
    const out: string[] = [];
    if (ring.length === 0) return out;
    const h = fnv1a(key);
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
      for (const [id, node] of this.nodes) if (!this.down.has(id)) await node.placementRound();
    }
  }

  /** Ids of live nodes holding a copy of `key`. */
  holders(key: string): string[] {
    return [...this.nodes].filter(([id, n]) => !this.down.has(id) && n.storage.get(key)?.value !== undefined).map(([id]) => id);
  }

  private buildRing(members: string[]): { token: number; id: string }[] {
    return members.flatMap((id) => Array.from({ length: 8 }, (_, v) => ({ token: fnv1a(`${id}#${v}`), id }))).sort((a, b) => a.token - b.token);
  }

  private rebuildRing(): void {
    this.ring = this.buildRing(this.members);
  }

  private view(self: string): KvCluster {
    return {
      self,
      replicasOf: (key) => this.replicasOf(key),
      candidatesOf: (key) => this.replicasOf(key, this.members, this.replicationFactor + 2),
      replicasWithout: (key, nodeId) => this.replicasOf(key, this.members.filter((m) => m !== nodeId)),
      isReachable: (id) => this.members.includes(id) && !this.down.has(id),
      peers: () => this.members.filter((m) => m !== self && !this.down.has(m)),
    };
  }

  private caller(from: string): PeerCaller {
    return {
      call: async <T>(to: string, pattern: string, payload: unknown): Promise<T> => {
        await Promise.resolve();
        if (this.down.has(to) || this.down.has(from)) throw new Error(`${to} is unreachable`);
        const target = this.nodes.get(to);
        if (!target) throw new Error(`${to} is not a member`);
        this.messages++;
        const wire = JSON.parse(JSON.stringify(payload)) as unknown;
        const reply = ((): unknown => {
          switch (pattern) {
            case KV_PUT: return target.onPut(wire);
            case KV_GET: return target.onGet(wire);
            case KV_SYNC_DIGEST: return target.onDigest(from, wire);
            case KV_SYNC_PULL: return target.onPull(wire);
            case KV_SYNC_PUSH: return target.onPush(wire);
            default: throw new Error(`no handler for ${pattern}`);
          }
        })();
        await Promise.resolve();
        return JSON.parse(JSON.stringify(reply)) as T;
      },
    };
  }
}
