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
import { compareTimestamps, type Timestamp } from '../store/hlc.js';
import { entryBytes, type Versioned } from '../store/versioned.js';
import {
  checkDigestReply,
  checkEntries,
  checkOfferReply,
  checkPushReply,
  KV_SYNC_DIGEST,
  KV_SYNC_OFFER,
  KV_SYNC_PULL,
  KV_SYNC_PUSH,
  type DigestMessage,
  type DigestReply,
  type OfferMessage,
  type OfferReply,
  type PullReply,
} from './kv-messages.js';
import type { KvCluster, PeerCaller } from './kv-cluster.js';
import type { KvNodeOptions } from './kv-node-options.js';
import type { KvCounters } from './kv-stats.js';
import type { LocalReplica } from './local-replica.js';
import { batches } from './placement-planner.js';

const CURSORS_STATE = 'anti-entropy-cursors';
/** More than any cluster's peer count; only bounds what a damaged state could make this node hold. */
const MAX_KEPT_CURSORS = 10_000;

/**
 * Catching up with a peer over the keys both replicate: this node's side of an exchange (digest, pull,
 * push) and its answers to a peer's digest and pull. Missed writes, a restarted node's lost memory and
 * keys whose replicas changed with the ring are all repaired this way.
 */
export class AntiEntropy {
  /**
   * Per peer, where its last cut-off digest listing ended: the next exchange lists the keys after it, so
   * successive rounds walk the whole key space instead of comparing the same first keys forever. One
   * entry per peer at most; entries of peers gone are dropped every placement round.
   */
  private readonly listingCursors = new Map<string, ListingPosition>();

  constructor(
    private readonly cluster: KvCluster,
    private readonly peers: PeerCaller,
    private readonly local: LocalReplica,
    private readonly options: KvNodeOptions,
    private readonly counters: KvCounters,
  ) {}

  /** Drops the listing cursors of peers no longer among `peers`. */
  forgetCursorsExcept(peers: readonly string[]): void {
    let changed = false;
    for (const peer of this.listingCursors.keys())
      if (!peers.includes(peer)) changed = this.listingCursors.delete(peer) || changed;
    if (changed) this.keepCursors();
  }

  /**
   * Takes back the cursors kept before a restart, so a node with more differing keys than one listing
   * holds goes on walking the key space where it stopped instead of starting over from the first keys.
   */
  restoreCursors(): void {
    const saved = this.local.storage.loadState(CURSORS_STATE);
    if (!Array.isArray(saved)) return;
    for (const entry of saved.slice(0, MAX_KEPT_CURSORS)) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) continue;
      const [hash, key] = entry[1] as unknown[];
      if (typeof hash === 'number' && typeof key === 'string') this.listingCursors.set(entry[0], [hash, key]);
    }
  }

  private keepCursors(): void {
    this.local.storage.saveState(CURSORS_STATE, [...this.listingCursors]);
  }

  /**
   * Compares the sender's digest of the keys we share with ours; lists our keys in the buckets that
   * differ, from the sender's cursor on, at most `maxSummaries` of them.
   */
  answerDigest(from: string, { buckets: theirs, after }: DigestMessage): DigestReply {
    const shared = this.sharedWith(from);
    const differing = differingBuckets(this.digest(shared), theirs);
    const wanted = new Set(differing);
    const inDiffering = shared.filter((key) => wanted.has(bucketOf(key, this.options.digestBuckets)));
    const page = listingPage(inDiffering, after, this.options.maxSummaries);
    const summaries: DigestReply['summaries'] = page.keys.map((key) => {
      const { ts } = this.local.storage.get(key)!;
      return [key, ts.wall, ts.logical, ts.node];
    });
    return page.until
      ? { buckets: differing, summaries, truncated: true, until: page.until }
      : { buckets: differing, summaries, truncated: false };
  }

  answerPull(keys: readonly string[]): PullReply {
    const reply: PullReply = { entries: [], absent: [], truncated: [] };
    let bytes = 0;
    for (const key of keys) {
      const v = this.local.storage.get(key);
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
  }

  /** The offered keys held here at the offered version or later (durably: a handoff drops its copy on this answer). */
  async answerOffer({ summaries }: OfferMessage): Promise<OfferReply> {
    const have: string[] = [];
    for (const [key, wall, logical, node] of summaries) {
      const own = this.local.storage.get(key);
      if (own && compareTimestamps(own.ts, { wall, logical, node }) >= 0) have.push(key);
    }
    await this.local.durable();
    return { have };
  }

  private sharedWith(peer: string): string[] {
    const shared: string[] = [];
    for (const key of this.local.storage.keys()) {
      const replicas = this.cluster.replicasOf(key);
      if (replicas.includes(this.cluster.self) && replicas.includes(peer)) shared.push(key);
    }
    return shared;
  }

  private digest(keys: Iterable<string>) {
    const builder = new DigestBuilder(this.options.digestBuckets);
    for (const key of keys) builder.add(key, this.local.storage.get(key)!.ts);
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
    if (until || after) this.keepCursors();
    if (raw.buckets.length === 0) return [0, 0];
    const differing = new Set(raw.buckets);
    const mine = new Map<string, Timestamp>();
    for (const key of shared) {
      if (differing.has(bucketOf(key, this.options.digestBuckets)) && withinListing(key, after, until))
        mine.set(key, this.local.storage.get(key)!.ts);
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
      this.counters.syncEntriesIn += entries.length;
      pulled += this.local.applyEntries(entries).applied;
      pending = [...truncated, ...pending.slice(ask.length)];
    }
    this.counters.pulled += pulled;
    return pulled;
  }

  /**
   * Sends the local copies of `keys` to `peer` in bounded batches; adds to `accepted` the keys it says
   * it holds (as each batch is answered, so a later batch failing keeps what earlier ones confirmed).
   * Handoff sends its copies this way too.
   */
  async push(
    peer: string,
    keys: readonly string[],
    accepted = new Set<string>(),
    offerFirst = false,
  ): Promise<Set<string>> {
    let entries: [string, Versioned][] = [];
    for (const key of keys) {
      const v = this.local.storage.get(key);
      if (v !== undefined) entries.push([key, v]);
    }
    const before = accepted.size;
    if (offerFirst) entries = await this.offer(peer, entries, accepted);
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
   * Asks `peer` which of these copies it already holds (a returning replica holds most of what it is
   * handed back): those count as accepted, the rest are returned to be sent. Keys and timestamps
   * only, so handing a node back its ranges moves the values it missed, not all it holds.
   */
  private async offer(
    peer: string,
    entries: [string, Versioned][],
    accepted: Set<string>,
  ): Promise<[string, Versioned][]> {
    const rest: [string, Versioned][] = [];
    for (let i = 0; i < entries.length; i += this.options.maxItems) {
      const batch = entries.slice(i, i + this.options.maxItems);
      const message: OfferMessage = { summaries: batch.map(([key, { ts }]) => [key, ts.wall, ts.logical, ts.node]) };
      const have = checkOfferReply(
        await this.peers.call<unknown>(peer, KV_SYNC_OFFER, message),
        new Set(batch.map(([key]) => key)),
      );
      for (const entry of batch) {
        if (have.has(entry[0])) accepted.add(entry[0]);
        else rest.push(entry);
      }
    }
    return rest;
  }
}
