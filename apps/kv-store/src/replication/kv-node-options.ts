import type { StorageLimits } from '../store/storage-engine.js';
import type { MessageLimits } from './kv-messages.js';

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
