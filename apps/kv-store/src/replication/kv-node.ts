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
import { HybridLogicalClock, type Timestamp } from '../store/hlc.js';
import { StorageEngine, type ApplyOutcome, type StorageLimits } from '../store/storage-engine.js';
import { entryBytes, type Versioned } from '../store/versioned.js';
import {
  BadMessageError,
  checkDigest,
  checkDigestReply,
  checkEntries,
  checkGet,
  checkKey,
  checkPull,
  checkPush,
  checkPushReply,
  checkPut,
  checkVersioned,
  KV_GET,
  KV_PUT,
  KV_SYNC_DIGEST,
  KV_SYNC_PULL,
  KV_SYNC_PUSH,
  type DigestMessage,
  type DigestReply,
  type MessageLimits,
  type PullReply,
  type PushReply,
} from './kv-messages.js';
import { batches, byTarget, planDecommission, planPlacement } from './placement-planner.js';
import { collectQuorum, majority, TooFewReplicasUpError } from './quorum.js';
import { answersAgree, resolveRead } from './read-repair.js';

/** What the store needs to know about the cluster (the app adapts Elastica's services to it). */
export interface KvCluster {
  readonly self: string;
  /** Copies of each key the cluster keeps (3 by default): quorums are majorities of it. */
  readonly replicationFactor: number;
  /**
   * Members that own ranges on the ring, counting those that are down right now: the live ring leaves
   * a down node out (its ranges go to the next nodes), but it is still part of the cluster, so it
   * still counts when deciding how many copies a key should have. A member that left does not count.
   */
  ringMembers(): number;
  /** The key's replicas in ring order, among the members that are up (the replication factor of them, fewer in a smaller cluster). */
  replicasOf(key: string): readonly string[];
  /**
   * The key's replicas followed by the next nodes in ring order (the replication factor plus two): a
   * superset of the key's replica set just before and after one or two ring changes.
   */
  candidatesOf(key: string): readonly string[];
  /** The key's replicas as they will be once `nodeId` has left the ring. */
  replicasWithout(key: string, nodeId: string): readonly string[];
  /** False for a node known to be down or gone: it is not asked, so requests fail fast. */
  isReachable(nodeId: string): boolean;
  /** Other members that are reachable now: the anti-entropy partners. */
  peers(): readonly string[];
}

/** Request/response to one peer (the app adapts `ClusterClient.send` to it); rejects on error or timeout. */
export interface PeerCaller {
  call<T>(nodeId: string, pattern: string, payload: unknown): Promise<T>;
}

export interface KvNodeOptions extends MessageLimits {
  storage: StorageLimits;
  /** A replica refuses versions stamped further than this ahead of its own clock. */
  maxClockDriftMs: number;
  /** Tombstones are kept this long, so every replica learns of a delete before its tombstone goes. */
  tombstoneGraceMs: number;
  /** Anti-entropy buckets per digest. */
  digestBuckets: number;
  /**
   * Most key summaries in one digest reply. When the differing buckets hold more keys, the reply lists
   * the first ones in listing order and the next exchange with that peer goes on from there.
   */
  maxSummaries: number;
  /** Most bytes of values in one pull reply or push. */
  batchBytes: number;
  /** The ring must have been still for this long before copies this node no longer replicates are dropped. */
  orphanGraceMs: number;
  /**
   * For this long after a ring change, reads ask every reachable candidate of the key (see
   * `KvCluster.candidatesOf`), not just a majority of its new replicas: a write acknowledged by a majority
   * of the old replica set may not have reached the new one before anti-entropy moves it there.
   */
  transitionMs: number;
}

export const DEFAULT_KV_OPTIONS: KvNodeOptions = {
  maxKeyBytes: 256,
  maxValueBytes: 256 * 1024,
  maxItems: 1000,
  storage: { maxKeys: 1_000_000, maxBytes: 256 * 1024 * 1024 },
  maxClockDriftMs: 60_000,
  tombstoneGraceMs: 3600_000,
  digestBuckets: 64,
  maxSummaries: 5000,
  batchBytes: 1024 * 1024,
  orphanGraceMs: 5000,
  transitionMs: 15_000,
};

export interface KvStats {
  keys: number;
  bytes: number;
  writes: number;
  reads: number;
  quorumFailures: number;
  readRepairs: number;
  syncRounds: number;
  pulled: number;
  pushed: number;
  handedOff: number;
  orphansDropped: number;
  tombstonesCollected: number;
  refusedWrites: number;
  badMessages: number;
}

export interface WriteResult {
  ts: Timestamp;
  /** The replicas that acknowledged before the quorum was reached. */
  acks: string[];
}

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
 * One replica not asked at all, since gossip has it down or gone: it counts as that replica's failure
 * within the quorum (the others may still make it), unlike TooFewReplicasUpError, which refuses the
 * whole request before anything is sent.
 */
export class ReplicaUnreachableError extends Error {
  constructor(nodeId: string) {
    super(`replica ${nodeId} is down`);
    this.name = 'ReplicaUnreachableError';
  }
}

type Log = (level: 'log' | 'warn', message: string) => void;

/**
 * One node of the store, without Nest or sockets: the coordinator (quorum writes and reads with read
 * repair), the replica (LWW apply, bounded storage), anti-entropy (digest, pull, push) and handoff.
 * Every peer message goes through `PeerCaller`; every cluster fact through `KvCluster`; time is a
 * function. So the whole replication protocol runs in tests on in-memory peers.
 */
export class KvNode {
  readonly storage: StorageEngine;
  private readonly hlc: HybridLogicalClock;
  private ringChangedAtMs: number;
  /**
   * Per peer, where its last cut-off digest listing ended: the next exchange lists the keys after it, so
   * successive rounds walk the whole key space instead of comparing the same first keys forever. One
   * entry per peer at most; entries of peers gone are dropped every placement round.
   */
  private readonly listingCursors = new Map<string, ListingPosition>();
  private readonly counters = {
    writes: 0,
    reads: 0,
    quorumFailures: 0,
    readRepairs: 0,
    syncRounds: 0,
    pulled: 0,
    pushed: 0,
    handedOff: 0,
    orphansDropped: 0,
    tombstonesCollected: 0,
    refusedWrites: 0,
    badMessages: 0,
  };

  constructor(
    private readonly cluster: KvCluster,
    private readonly peers: PeerCaller,
    private readonly now: () => number,
    readonly options: KvNodeOptions = DEFAULT_KV_OPTIONS,
    private readonly log: Log = () => {},
  ) {
    this.storage = new StorageEngine(options.storage);
    this.hlc = new HybridLogicalClock(cluster.self, options.maxClockDriftMs);
    this.ringChangedAtMs = now();
  }

  stats(): KvStats {
    return { keys: this.storage.size, bytes: this.storage.bytes, ...this.counters };
  }

  // ---- coordinator ---------------------------------------------------------------------------------

  /**
   * Answers a read or a write needs: a majority of the copies the key is meant to have. That is the
   * replication factor, or the number of ring members when the cluster is smaller, counting members
   * that are down: a down node leaves the live ring (its ranges go to the next nodes), but a key still
   * needs a majority of its copies, or a write acknowledged by a single node would be lost with it.
   */
  quorum(): { needed: number; copies: number } {
    const copies = Math.max(1, Math.min(this.cluster.replicationFactor, this.cluster.ringMembers()));
    return { needed: majority(copies), copies };
  }

  /** The key's live replicas, or the reason why no quorum of them is possible (before anything is sent). */
  private replicasFor(key: string): { replicas: readonly string[]; needed: number } {
    const replicas = this.cluster.replicasOf(key);
    const { needed, copies } = this.quorum();
    if (replicas.length > 0 && replicas.length < needed) {
      this.counters.quorumFailures++;
      throw new TooFewReplicasUpError(needed, replicas.length, copies);
    }
    return { replicas, needed };
  }

  /** Writes `value` (null: deletes) on the key's replicas; resolves once a majority acknowledged. */
  async write(key: string, value: string | null): Promise<WriteResult> {
    checkKey(KV_PUT, key, this.options);
    const v: Versioned = { ts: this.hlc.tick(this.now()), value };
    checkVersioned(KV_PUT, v, this.options);
    const { replicas, needed } = this.replicasFor(key);
    this.counters.writes++;
    try {
      const outcome = await collectQuorum<ApplyOutcome>({ replicas, needed, call: (id) => this.putOn(id, key, v) });
      return { ts: v.ts, acks: [...outcome.replies.keys()] };
    } catch (error) {
      this.counters.quorumFailures++;
      throw error;
    }
  }

  /** Reads from a majority of replicas (more when they disagree); repairs stale replicas in the background. */
  async read(key: string): Promise<Versioned | undefined> {
    checkKey(KV_GET, key, this.options);
    const { replicas, needed } = this.replicasFor(key);
    this.counters.reads++;
    // Right after a ring change the last acknowledged write may sit only on the old replicas: ask them
    // all (the candidates cover the old and the new sets) and wait for every answer, the newest wins.
    const transition = this.now() - this.ringChangedAtMs < this.options.transitionMs;
    const asked = transition ? [...new Set([...replicas, ...this.cluster.candidatesOf(key)])] : replicas;
    let outcome;
    try {
      outcome = await collectQuorum<Versioned | null>({
        replicas: asked,
        needed,
        call: (id) => this.getFrom(id, key),
        enough: transition ? () => false : answersAgree,
      });
    } catch (error) {
      this.counters.quorumFailures++;
      throw error;
    }
    void outcome.settled.then((all) => this.repair(key, all.replies, replicas));
    return resolveRead(outcome.replies).latest;
  }

  private putOn(replica: string, key: string, v: Versioned): Promise<ApplyOutcome> {
    if (replica === this.cluster.self) return Promise.resolve().then(() => this.applyLocal(key, v));
    if (!this.cluster.isReachable(replica)) return Promise.reject(new ReplicaUnreachableError(replica));
    return this.peers.call<{ outcome: ApplyOutcome }>(replica, KV_PUT, { key, v }).then((reply) => reply.outcome);
  }

  private getFrom(replica: string, key: string): Promise<Versioned | null> {
    if (replica === this.cluster.self) return Promise.resolve(this.storage.get(key) ?? null);
    if (!this.cluster.isReachable(replica)) return Promise.reject(new ReplicaUnreachableError(replica));
    return this.peers.call<{ v?: unknown }>(replica, KV_GET, { key }).then((reply) => {
      const v = reply?.v;
      return v === null || v === undefined ? null : checkVersioned(KV_GET, v, this.options);
    });
  }

  /** Writes the newest answer back to the stale ones among `replicas` (a former replica's copy goes with anti-entropy). */
  private async repair(
    key: string,
    answers: ReadonlyMap<string, Versioned | null>,
    replicas: readonly string[],
  ): Promise<void> {
    const { latest, stale } = resolveRead(answers);
    if (latest === undefined) return;
    await Promise.all(
      stale
        .filter((id) => replicas.includes(id))
        .map(async (replica) => {
          try {
            await this.putOn(replica, key, latest);
            this.counters.readRepairs++;
          } catch (error) {
            this.log('warn', `read repair of ${JSON.stringify(key)} on ${replica} failed: ${(error as Error).message}`);
          }
        }),
    );
  }

  // ---- replica (the handlers of peer messages) -------------------------------------------------------

  private applyLocal(key: string, v: Versioned): ApplyOutcome {
    try {
      this.hlc.observe(v.ts, this.now());
      return this.storage.apply(key, v);
    } catch (error) {
      this.counters.refusedWrites++;
      throw error;
    }
  }

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
      return { outcome: this.applyLocal(key, v) };
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
    return this.guard(() => this.applyEntries(checkPush(message, this.options).entries));
  }

  private applyEntries(entries: [string, Versioned][]): PushReply {
    const reply: PushReply = { applied: 0, stale: 0, refused: 0, accepted: [] };
    for (const [key, v] of entries) {
      try {
        if (this.applyLocal(key, v) === 'applied') reply.applied++;
        else reply.stale++;
        reply.accepted.push(key);
      } catch {
        reply.refused++;
      }
    }
    return reply;
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
      pulled += this.applyEntries(entries).applied;
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
    const collected = this.storage.collectTombstones(this.now() - this.options.tombstoneGraceMs);
    this.counters.tombstonesCollected += collected;
    return collected;
  }
}
