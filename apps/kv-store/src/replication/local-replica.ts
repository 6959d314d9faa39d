import { HybridLogicalClock, type Timestamp } from '../store/hlc.js';
import type { ApplyOutcome, StorageEngine } from '../store/storage-engine.js';
import type { Versioned } from '../store/versioned.js';
import type { PushReply } from './kv-messages.js';
import type { KvNodeOptions } from './kv-node-options.js';
import type { KvCounters } from './kv-stats.js';

const CLOCK_STATE = 'hlc';

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
    storage: StorageEngine,
  ) {
    this.storage = storage;
    this.hlc = new HybridLogicalClock(self, options.maxClockDriftMs);
    // After a restart the clock goes on from where it was: from its kept reading and from every version
    // on disk, so a write stamped now is later than any this node stamped or held before.
    const saved = storage.loadState(CLOCK_STATE);
    if (Array.isArray(saved) && Number.isSafeInteger(saved[0]) && Number.isSafeInteger(saved[1]))
      this.hlc.restore({ wall: saved[0] as number, logical: saved[1] as number, node: self });
    for (const [, v] of storage.all()) this.hlc.restore(v.ts);
  }

  /** A timestamp for a new write coordinated here, later than every version this node has seen. */
  stamp(): Timestamp {
    const ts = this.hlc.tick(this.now());
    this.storage.saveState(CLOCK_STATE, [ts.wall, ts.logical]);
    return ts;
  }

  /** Applies a version and resolves once it is on disk (at once with `--storage memory`): what a replica acknowledges. */
  async applyDurably(key: string, v: Versioned): Promise<ApplyOutcome> {
    const outcome = this.apply(key, v);
    await this.durable();
    return outcome;
  }

  /** Resolves once every version applied so far is on disk. */
  async durable(): Promise<void> {
    try {
      await this.storage.durable();
    } catch (error) {
      this.counters.refusedWrites++;
      throw error;
    }
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
