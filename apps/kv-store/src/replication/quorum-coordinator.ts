import type { ApplyOutcome } from '../store/storage-engine.js';
import type { Timestamp } from '../store/hlc.js';
import type { Versioned } from '../store/versioned.js';
import { checkKey, checkVersioned, KV_GET, KV_PUT } from './kv-messages.js';
import type { KvCluster, KvLog, PeerCaller } from './kv-cluster.js';
import type { KvNodeOptions } from './kv-node-options.js';
import type { KvCounters } from './kv-stats.js';
import type { LocalReplica } from './local-replica.js';
import { collectQuorum, majority, TooFewReplicasUpError } from './quorum.js';
import { answersAgree, resolveRead } from './read-repair.js';

export interface WriteResult {
  ts: Timestamp;
  /** The replicas that acknowledged before the quorum was reached. */
  acks: string[];
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

/** The coordinator of a client's request: quorum writes, and quorum reads with read repair. */
export class QuorumCoordinator {
  constructor(
    private readonly cluster: KvCluster,
    private readonly peers: PeerCaller,
    private readonly local: LocalReplica,
    private readonly options: KvNodeOptions,
    private readonly counters: KvCounters,
    /** How long ago the ring last changed: reads right after a change ask more replicas. */
    private readonly sinceRingChangeMs: () => number,
    private readonly log: KvLog,
  ) {}

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
    const v: Versioned = { ts: this.local.stamp(), value };
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
    const transition = this.sinceRingChangeMs() < this.options.transitionMs;
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
    if (replica === this.cluster.self) return Promise.resolve().then(() => this.local.applyDurably(key, v));
    if (!this.cluster.isReachable(replica)) return Promise.reject(new ReplicaUnreachableError(replica));
    return this.peers.call<{ outcome: ApplyOutcome }>(replica, KV_PUT, { key, v }).then((reply) => reply.outcome);
  }

  private getFrom(replica: string, key: string): Promise<Versioned | null> {
    if (replica === this.cluster.self) return Promise.resolve(this.local.storage.get(key) ?? null);
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
}
