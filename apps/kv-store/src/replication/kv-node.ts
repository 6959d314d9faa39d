import type { ApplyOutcome, StorageEngine } from '../store/storage-engine.js';
import type { Versioned } from '../store/versioned.js';
import { AntiEntropy } from './anti-entropy.js';
import type { KvCluster, KvLog, PeerCaller } from './kv-cluster.js';
import {
  BadMessageError,
  checkDigest,
  checkGet,
  checkPull,
  checkPush,
  checkPut,
  type DigestReply,
  type PullReply,
  type PushReply,
} from './kv-messages.js';
import { DEFAULT_KV_OPTIONS, type KvNodeOptions } from './kv-node-options.js';
import { emptyKvCounters, type KvStats } from './kv-stats.js';
import { LocalReplica } from './local-replica.js';
import { QuorumCoordinator, type WriteResult } from './quorum-coordinator.js';
import { byTarget, planDecommission, planPlacement } from './placement-planner.js';

// The app and the specs import the node's whole surface from here.
export type { KvCluster, PeerCaller } from './kv-cluster.js';
export { DEFAULT_KV_OPTIONS, type KvNodeOptions } from './kv-node-options.js';
export type { KvStats } from './kv-stats.js';
export { ReplicaUnreachableError, type WriteResult } from './quorum-coordinator.js';

export interface HandoffResult {
  /** Keys held here. */
  keys: number;
  /** Copies their targets acknowledged holding (one key to three targets is three copies). */
  sent: number;
  /** Copies not acknowledged: refused by their target (e.g. its store is full), or it failed or was unreachable. */
  undelivered: number;
  /** Keys no other node would replicate: nobody to hand them to. */
  unplaced: number;
  /** Targets that failed, were unreachable, or refused copies. */
  failedTargets: string[];
  /** Every key is held by every node it was meant for: nothing is left that only this node has. */
  complete: boolean;
}

/**
 * One node of the store, without Nest or sockets: the coordinator (quorum writes and reads with read
 * repair), the replica (LWW apply, bounded storage), anti-entropy (digest, pull, push) and handoff,
 * each a part of its own sharing the node's counters and its time of the last ring change. Peer
 * messages are validated here, so a part only ever sees a well-formed one and a malformed one is
 * counted once. Every peer message goes through `PeerCaller`; every cluster fact through `KvCluster`;
 * time is a function. So the whole replication protocol runs in tests on in-memory peers.
 */
export class KvNode {
  readonly storage: StorageEngine;
  private readonly local: LocalReplica;
  private readonly coordinator: QuorumCoordinator;
  private readonly antiEntropy: AntiEntropy;
  private ringChangedAtMs: number;
  private readonly counters = emptyKvCounters();

  constructor(
    private readonly cluster: KvCluster,
    peers: PeerCaller,
    private readonly now: () => number,
    readonly options: KvNodeOptions = DEFAULT_KV_OPTIONS,
    private readonly log: KvLog = () => {},
  ) {
    this.local = new LocalReplica(cluster.self, options, now, this.counters);
    this.storage = this.local.storage;
    this.ringChangedAtMs = now();
    const sinceRingChangeMs = (): number => this.now() - this.ringChangedAtMs;
    this.coordinator = new QuorumCoordinator(
      cluster,
      peers,
      this.local,
      options,
      this.counters,
      sinceRingChangeMs,
      log,
    );
    this.antiEntropy = new AntiEntropy(cluster, peers, this.local, options, this.counters);
  }

  stats(): KvStats {
    return { keys: this.storage.size, bytes: this.storage.bytes, ...this.counters };
  }

  // ---- coordinator ---------------------------------------------------------------------------------

  /** Answers a read or a write needs (see `QuorumCoordinator.quorum`). */
  quorum(): { needed: number; copies: number } {
    return this.coordinator.quorum();
  }

  /** Writes `value` (null: deletes) on the key's replicas; resolves once a majority acknowledged. */
  write(key: string, value: string | null): Promise<WriteResult> {
    return this.coordinator.write(key, value);
  }

  /** Reads from a majority of replicas (more when they disagree); repairs stale replicas in the background. */
  read(key: string): Promise<Versioned | undefined> {
    return this.coordinator.read(key);
  }

  // ---- peer messages -------------------------------------------------------------------------------

  private guard<T>(handler: () => T): T {
    try {
      return handler();
    } catch (error) {
      if (error instanceof BadMessageError) this.counters.badMessages++;
      throw error;
    }
  }

  onPut(message: unknown): { outcome: ApplyOutcome } {
    return this.guard(() => {
      const { key, v } = checkPut(message, this.options);
      return { outcome: this.local.apply(key, v) };
    });
  }

  /** Wrapped in an object, so "no copy" is a value on every transport rather than an empty reply. */
  onGet(message: unknown): { v: Versioned | null } {
    return this.guard(() => ({ v: this.storage.get(checkGet(message, this.options).key) ?? null }));
  }

  onDigest(from: string, message: unknown): DigestReply {
    return this.guard(() =>
      this.antiEntropy.answerDigest(from, checkDigest(message, this.options.digestBuckets, this.options)),
    );
  }

  onPull(message: unknown): PullReply {
    return this.guard(() => this.antiEntropy.answerPull(checkPull(message, this.options).keys));
  }

  onPush(message: unknown): PushReply {
    return this.guard(() => this.local.applyEntries(checkPush(message, this.options).entries));
  }

  // ---- anti-entropy and handoff ---------------------------------------------------------------------

  /** The ring changed: copies this node no longer replicates are kept until it has been still a while. */
  noteRingChange(): void {
    this.ringChangedAtMs = this.now();
  }

  /** One anti-entropy exchange with `peer` (see `AntiEntropy.syncWith`). Returns [pulled, pushed]. */
  syncWith(peer: string, shared?: readonly string[]): Promise<[number, number]> {
    return this.antiEntropy.syncWith(peer, shared);
  }

  /**
   * Puts this node's copies where the ring says they belong: anti-entropy with every reachable peer
   * (which also brings a new or returning replica what it lacks, and this node what it lacks), then
   * copies it no longer replicates go to their replicas and, once all of them have them and the ring
   * has been still for `orphanGraceMs`, are dropped here.
   */
  async placementRound(): Promise<{
    pulled: number;
    pushed: number;
    handedOff: number;
    dropped: number;
    failedPeers: string[];
  }> {
    const plan = planPlacement(this.storage.keys(), this.cluster.self, (key) => this.cluster.replicasOf(key));
    const peers = this.cluster.peers();
    this.antiEntropy.forgetCursorsExcept(peers);
    const failedPeers: string[] = [];
    let pulled = 0;
    let pushed = 0;
    await Promise.all(
      peers.map(async (peer) => {
        try {
          const [p, q] = await this.antiEntropy.syncWith(peer, plan.shared.get(peer) ?? []);
          pulled += p;
          pushed += q;
        } catch (error) {
          failedPeers.push(peer);
          this.log('warn', `anti-entropy with ${peer} failed: ${(error as Error).message}`);
        }
      }),
    );
    const sent = new Map<string, Versioned>();
    for (const key of plan.orphans.keys()) sent.set(key, this.storage.get(key)!);
    const delivered = await this.deliver(byTarget(plan.orphans), failedPeers);
    let dropped = 0;
    if (this.now() - this.ringChangedAtMs >= this.options.orphanGraceMs) {
      for (const [key, targets] of plan.orphans) {
        // Dropped only if every replica has it and nothing newer arrived here meanwhile.
        if (targets.every((t) => delivered.get(t)?.has(key)) && this.storage.get(key) === sent.get(key)) {
          this.storage.remove(key);
          dropped++;
        }
      }
      this.counters.orphansDropped += dropped;
    }
    let handedOff = 0;
    for (const keys of delivered.values()) handedOff += keys.size;
    return { pulled, pushed, handedOff, dropped, failedPeers };
  }

  /**
   * Pushes the given keys to each target; returns, per target, the keys it acknowledged holding. A
   * target that fails, is unreachable, or refuses some keys goes into `failed`.
   */
  private async deliver(keysByTarget: Map<string, string[]>, failed: string[]): Promise<Map<string, Set<string>>> {
    const delivered = new Map<string, Set<string>>();
    await Promise.all(
      [...keysByTarget].map(async ([target, keys]) => {
        if (!this.cluster.isReachable(target)) {
          failed.push(target);
          return;
        }
        const accepted = new Set<string>();
        delivered.set(target, accepted);
        try {
          await this.antiEntropy.push(target, keys, accepted);
          const refused = this.unacknowledged(keys, accepted);
          if (refused > 0) {
            failed.push(target);
            this.log('warn', `${target} refused ${refused} of the ${keys.length} copies handed to it; they stay here`);
          }
        } catch (error) {
          failed.push(target);
          this.log(
            'warn',
            `handing ${keys.length} keys to ${target} failed after ${accepted.size} were accepted: ${(error as Error).message}`,
          );
        } finally {
          this.counters.handedOff += accepted.size;
        }
      }),
    );
    return delivered;
  }

  /** How many of `keys` are still held here but not in `accepted` (a key gone meanwhile, e.g. a collected tombstone, needs no copy). */
  private unacknowledged(keys: readonly string[], accepted: ReadonlySet<string> | undefined): number {
    let count = 0;
    for (const key of keys) if (!accepted?.has(key) && this.storage.has(key)) count++;
    return count;
  }

  /**
   * A decommission: every copy held here goes to the replicas it will have once this node is gone.
   * Complete only when every one of them acknowledged holding it, and every key had somewhere to go.
   */
  async handOffAll(): Promise<HandoffResult> {
    const plan = planDecommission(this.storage.keys(), this.cluster.self, (key) =>
      this.cluster.replicasWithout(key, this.cluster.self),
    );
    const failedTargets: string[] = [];
    const delivered = await this.deliver(plan.byTarget, failedTargets);
    let sent = 0;
    let undelivered = 0;
    for (const keys of delivered.values()) sent += keys.size;
    for (const [target, keys] of plan.byTarget) undelivered += this.unacknowledged(keys, delivered.get(target));
    const unplaced = plan.unplaced.filter((key) => this.storage.has(key)).length;
    return {
      keys: this.storage.size,
      sent,
      undelivered,
      unplaced,
      failedTargets: [...new Set(failedTargets)].sort(),
      complete: undelivered === 0 && unplaced === 0,
    };
  }

  /** Drops tombstones older than the grace period. */
  collectGarbage(): number {
    return this.local.collectGarbage();
  }
}
