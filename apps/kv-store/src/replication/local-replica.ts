import { HybridLogicalClock, type Timestamp } from '../store/hlc.js';
import { StorageEngine, type ApplyOutcome } from '../store/storage-engine.js';
import type { Versioned } from '../store/versioned.js';
import type { PushReply } from './kv-messages.js';
import type { KvNodeOptions } from './kv-node-options.js';
import type { KvCounters } from './kv-stats.js';

/**
 * This node's copies and its clock: every version that lands here, whether a coordinator's write, a
 * peer's push or a pull, goes through `apply`, so the clock observes it and the store's bounds and
 * last-writer-wins rule hold whichever way it came.
 */
export class LocalReplica {
  readonly storage: StorageEngine;
  private readonly hlc: HybridLogicalClock;

  constructor(
    self: string,
    private readonly options: KvNodeOptions,
    private readonly now: () => number,
    private readonly counters: KvCounters,
  ) {
    this.storage = new StorageEngine(options.storage);
    this.hlc = new HybridLogicalClock(self, options.maxClockDriftMs);
  }

  /** A timestamp for a new write coordinated here, later than every version this node has seen. */
  stamp(): Timestamp {
    return this.hlc.tick(this.now());
  }

  apply(key: string, v: Versioned): ApplyOutcome {
    try {
      this.hlc.observe(v.ts, this.now());
      return this.storage.apply(key, v);
    } catch (error) {
      this.counters.refusedWrites++;
      throw error;
    }
  }

  /** Applies each entry on its own: one refused (too far ahead, store full) does not refuse the rest. */
  applyEntries(entries: [string, Versioned][]): PushReply {
    const reply: PushReply = { applied: 0, stale: 0, refused: 0, accepted: [] };
    for (const [key, v] of entries) {
      try {
        if (this.apply(key, v) === 'applied') reply.applied++;
        else reply.stale++;
        reply.accepted.push(key);
      } catch {
        reply.refused++;
      }
    }
    return reply;
  }

  /** Drops tombstones older than the grace period. */
  collectGarbage(): number {
    const collected = this.storage.collectTombstones(this.now() - this.options.tombstoneGraceMs);
    this.counters.tombstonesCollected += collected;
    return collected;
  }
}
