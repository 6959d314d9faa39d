import { MemoryStorageEngine } from '../store/memory-engine.js';
import type { ApplyOutcome, StorageEngine } from '../store/storage-engine.js';
import type { Versioned } from '../store/versioned.js';
import { AntiEntropy } from './anti-entropy.js';
import { Handoff, type HandoffResult, type PlacementRoundResult } from './handoff.js';
import type { KvCluster, KvLog, PeerCaller } from './kv-cluster.js';
import {
  BadMessageError,
  checkDigest,
  checkGet,
  checkOffer,
  checkPull,
  checkPush,
  checkPut,
  type DigestReply,
  type OfferReply,
  type PullReply,
  type PushReply,
} from './kv-messages.js';
import { DEFAULT_KV_OPTIONS, type KvNodeOptions } from './kv-node-options.js';
import { emptyKvCounters, type KvStats } from './kv-stats.js';
import { LocalReplica } from './local-replica.js';
import { QuorumCoordinator, type WriteResult } from './quorum-coordinator.js';

// The app and the specs import the node's whole surface from here.
export type { KvCluster, PeerCaller } from './kv-cluster.js';
export { DEFAULT_KV_OPTIONS, type KvNodeOptions } from './kv-node-options.js';
export type { KvStats } from './kv-stats.js';
export type { HandoffResult, PlacementRoundResult } from './handoff.js';
export { ReplicaUnreachableError, type WriteResult } from './quorum-coordinator.js';

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
  private readonly handoff: Handoff;
  private ringChangedAtMs: number;
  private readonly counters = emptyKvCounters();

  constructor(
    cluster: KvCluster,
    peers: PeerCaller,
    private readonly now: () => number,
    readonly options: KvNodeOptions = DEFAULT_KV_OPTIONS,
    log: KvLog = () => {},
    storage: StorageEngine = new MemoryStorageEngine(options.storage),
  ) {
    this.local = new LocalReplica(cluster.self, options, now, this.counters, storage);
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
    this.antiEntropy.restoreCursors();
    this.handoff = new Handoff(cluster, this.local, this.antiEntropy, options, this.counters, sinceRingChangeMs, log);
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

  /** Answers once the version is on disk: a replica's acknowledgement is a durable copy. */
  onPut(message: unknown): Promise<{ outcome: ApplyOutcome }> {
    // A malformed or refused message throws here, at once; only waiting for the disk is asynchronous.
    const { outcome } = this.guard(() => {
      const { key, v } = checkPut(message, this.options);
      return { outcome: this.local.apply(key, v) };
    });
    return this.local.durable().then(() => ({ outcome }));
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

  /** Answers once the copies are on disk: a handoff drops its own copy once acknowledged. */
  onPush(message: unknown): Promise<PushReply> {
    const reply = this.guard(() => {
      const { entries } = checkPush(message, this.options);
      this.counters.syncEntriesIn += entries.length;
      return this.local.applyEntries(entries);
    });
    return this.local.durable().then(() => reply);
  }

  onOffer(message: unknown): Promise<OfferReply> {
    return this.antiEntropy.answerOffer(this.guard(() => checkOffer(message, this.options)));
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

  /** Anti-entropy with every reachable peer, then copies this node no longer replicates handed off (see `Handoff`). */
  placementRound(): Promise<PlacementRoundResult> {
    return this.handoff.placementRound();
  }

  /** A decommission: every copy held here goes to the replicas it will have once this node is gone. */
  handOffAll(): Promise<HandoffResult> {
    return this.handoff.handOffAll();
  }

  /** Drops tombstones older than the grace period. */
  collectGarbage(): number {
    return this.local.collectGarbage();
  }
}
