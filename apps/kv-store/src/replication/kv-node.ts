import {
  bucketOf,
  comparePositions,
  DigestBuilder,
  diffSummaries,
  differingBuckets,
  listingPage,
  withinListing,
  type ListingPosition,
} from '../store/digest.js';
import type { Timestamp } from '../store/hlc.js';
import type { ApplyOutcome, StorageEngine } from '../store/storage-engine.js';
import { entryBytes, type Versioned } from '../store/versioned.js';
import {
  BadMessageError,
  checkDigest,
  checkDigestReply,
  checkEntries,
  checkGet,
  checkPull,
  checkPush,
  checkPushReply,
  checkPut,
  KV_SYNC_DIGEST,
  KV_SYNC_PULL,
  KV_SYNC_PUSH,
  type DigestMessage,
  type DigestReply,
  type PullReply,
  type PushReply,
} from './kv-messages.js';
import type { KvCluster, KvLog, PeerCaller } from './kv-cluster.js';
import { DEFAULT_KV_OPTIONS, type KvNodeOptions } from './kv-node-options.js';
import { emptyKvCounters, type KvStats } from './kv-stats.js';
import { LocalReplica } from './local-replica.js';
import { QuorumCoordinator, type WriteResult } from './quorum-coordinator.js';
import { batches, byTarget, planDecommission, planPlacement } from './placement-planner.js';

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
 * repair), the replica (LWW apply, bounded storage), anti-entropy (digest, pull, push) and handoff.
 * Every peer message goes through `PeerCaller`; every cluster fact through `KvCluster`; time is a
 * function. So the whole replication protocol runs in tests on in-memory peers.
 */
export class KvNode {
  readonly storage: StorageEngine;
  private readonly local: LocalReplica;
  private readonly coordinator: QuorumCoordinator;
  private ringChangedAtMs: number;
  /**
   * Per peer, where its last cut-off digest listing ended: the next exchange lists the keys after it, so
   * successive rounds walk the whole key space instead of comparing the same first keys forever. One
   * entry per peer at most; entries of peers gone are dropped every placement round.
   */
  private readonly listingCursors = new Map<string, ListingPosition>();
  private readonly counters = emptyKvCounters();

  constructor(
    private readonly cluster: KvCluster,
    private readonly peers: PeerCaller,
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

  // ---- replica (the handlers of peer messages) -------------------------------------------------------

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

  /**
   * Compares the sender's digest of the keys we share with ours; lists our keys in the buckets that
   * differ, from the sender's cursor on, at most `maxSummaries` of them.
   */
  onDigest(from: string, message: unknown): DigestReply {
    return this.guard(() => {
      const { buckets: theirs, after } = checkDigest(message, this.options.digestBuckets, this.options);
      const shared = this.sharedWith(from);
      const differing = differingBuckets(this.digest(shared), theirs);
      const wanted = new Set(differing);
      const inDiffering = shared.filter((key) => wanted.has(bucketOf(key, this.options.digestBuckets)));
      const page = listingPage(inDiffering, after, this.options.maxSummaries);
      const summaries: DigestReply['summaries'] = page.keys.map((key) => {
        const { ts } = this.storage.get(key)!;
        return [key, ts.wall, ts.logical, ts.node];
      });
      return page.until
        ? { buckets: differing, summaries, truncated: true, until: page.until }
        : { buckets: differing, summaries, truncated: false };
    });
  }

  onPull(message: unknown): PullReply {
    return this.guard(() => {
      const { keys } = checkPull(message, this.options);
      const reply: PullReply = { entries: [], absent: [], truncated: [] };
      let bytes = 0;
      for (const key of keys) {
        const v = this.storage.get(key);
        if (v === undefined) {
          reply.absent.push(key);
          continue;
        }
        const size = entryBytes(key, v);
        if (reply.entries.length > 0 && bytes + size > this.options.batchBytes) {
          reply.truncated.push(key);
          continue;
        }
        bytes += size;
        reply.entries.push([key, v]);
      }
      return reply;
    });
  }

  onPush(message: unknown): PushReply {
    return this.guard(() => this.local.applyEntries(checkPush(message, this.options).entries));
  }

  // ---- anti-entropy and handoff ---------------------------------------------------------------------

  /** The ring changed: copies this node no longer replicates are kept until it has been still a while. */
  noteRingChange(): void {
    this.ringChangedAtMs = this.now();
  }

  private sharedWith(peer: string): string[] {
    const shared: string[] = [];
    for (const key of this.storage.keys()) {
      const replicas = this.cluster.replicasOf(key);
      if (replicas.includes(this.cluster.self) && replicas.includes(peer)) shared.push(key);
    }
    return shared;
  }

  private digest(keys: Iterable<string>) {
    const builder = new DigestBuilder(this.options.digestBuckets);
    for (const key of keys) builder.add(key, this.storage.get(key)!.ts);
    return builder.build();
  }

  /**
   * One anti-entropy exchange with `peer` over the keys both replicate: digests, then the keys of the
   * differing buckets (a page of them, from where the last exchange with this peer stopped), then each
   * side gets the later versions it lacks within that page. Returns [pulled, pushed].
   */
  async syncWith(peer: string, shared: readonly string[] = this.sharedWith(peer)): Promise<[number, number]> {
    const after = this.listingCursors.get(peer);
    const message: DigestMessage = after ? { buckets: this.digest(shared), after } : { buckets: this.digest(shared) };
    const raw = checkDigestReply(
      await this.peers.call<unknown>(peer, KV_SYNC_DIGEST, message),
      this.options.digestBuckets,
      this.options,
    );
    this.counters.syncRounds++;
    // A page that does not move past the cursor (nothing after it, or a confused peer) starts over.
    const until =
      raw.truncated && raw.until && (!after || comparePositions(raw.until, after) > 0) ? raw.until : undefined;
    if (until) this.listingCursors.set(peer, until);
    else this.listingCursors.delete(peer);
    if (raw.buckets.length === 0) return [0, 0];
    const differing = new Set(raw.buckets);
    const mine = new Map<string, Timestamp>();
    for (const key of shared) {
      if (differing.has(bucketOf(key, this.options.digestBuckets)) && withinListing(key, after, until))
        mine.set(key, this.storage.get(key)!.ts);
    }
    const theirs = new Map<string, Timestamp>();
    for (const [key, wall, logical, node] of raw.summaries)
      if (withinListing(key, after, until)) theirs.set(key, { wall, logical, node });
    const diff = diffSummaries(mine, theirs);
    // The page is complete between the cursors: a key of ours in it that the peer did not list, it lacks.
    // A cut-off reply without its end position (never sent by this code) says only what the peer has.
    const push = raw.truncated && !raw.until ? diff.push.filter((key) => theirs.has(key)) : diff.push;
    const pulled = await this.pull(peer, diff.pull);
    const pushed = (await this.push(peer, push)).size;
    return [pulled, pushed];
  }

  private async pull(peer: string, keys: string[]): Promise<number> {
    let pulled = 0;
    let pending = keys;
    while (pending.length > 0) {
      const ask = pending.slice(0, this.options.maxItems);
      const reply = await this.peers.call<PullReply>(peer, KV_SYNC_PULL, { keys: ask });
      const entries = checkEntries(KV_SYNC_PULL, reply, this.options);
      const truncated = Array.isArray(reply.truncated)
        ? reply.truncated.filter((k) => typeof k === 'string').slice(0, ask.length)
        : [];
      if (entries.length === 0) break;
      pulled += this.local.applyEntries(entries).applied;
      pending = [...truncated, ...pending.slice(ask.length)];
    }
    this.counters.pulled += pulled;
    return pulled;
  }

  /**
   * Sends the local copies of `keys` to `peer` in bounded batches; adds to `accepted` the keys it says
   * it holds (as each batch is answered, so a later batch failing keeps what earlier ones confirmed).
   */
  private async push(peer: string, keys: readonly string[], accepted = new Set<string>()): Promise<Set<string>> {
    const entries: [string, Versioned][] = [];
    for (const key of keys) {
      const v = this.storage.get(key);
      if (v !== undefined) entries.push([key, v]);
    }
    const before = accepted.size;
    try {
      for (const batch of batches(
        entries,
        ([key, v]) => entryBytes(key, v),
        this.options.maxItems,
        this.options.batchBytes,
      )) {
        const reply = await this.peers.call<unknown>(peer, KV_SYNC_PUSH, { entries: batch });
        for (const key of checkPushReply(reply, new Set(batch.map(([key]) => key)))) accepted.add(key);
      }
    } finally {
      this.counters.pushed += accepted.size - before;
    }
    return accepted;
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
    for (const peer of this.listingCursors.keys()) if (!peers.includes(peer)) this.listingCursors.delete(peer);
    const failedPeers: string[] = [];
    let pulled = 0;
    let pushed = 0;
    await Promise.all(
      peers.map(async (peer) => {
        try {
          const [p, q] = await this.syncWith(peer, plan.shared.get(peer) ?? []);
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
          await this.push(target, keys, accepted);
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
