import { entryBytes, supersedes, type Versioned } from './versioned.js';
import type { ApplyOutcome, StorageEngine, StorageLimits } from './storage-engine.js';
import { StoreFullError } from './storage-engine.js';

/**
 * One node's copies, in memory only (`--storage memory`), bounded in keys and bytes. Every write goes through `apply`, which
 * keeps the later version (last writer wins), so applying the same versions in any order, any number
 * of times, ends in the same state: replication, read repair, anti-entropy and handoff all rely on it.
 */
export class MemoryStorageEngine implements StorageEngine {
  readonly kind = 'memory';
  private readonly entries = new Map<string, Versioned>();
  private usedBytes = 0;
  private mutationCount = 0;
  private readonly state = new Map<string, unknown>();

  constructor(private readonly limits: StorageLimits) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.usedBytes;
  }

  /** Grows by one on every change; lets a caller tell whether anything changed since it last looked. */
  get mutations(): number {
    return this.mutationCount;
  }

  get capacity(): StorageLimits {
    return { ...this.limits };
  }

  get(key: string): Versioned | undefined {
    return this.entries.get(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  keys(): IterableIterator<string> {
    return this.entries.keys();
  }

  all(): IterableIterator<[string, Versioned]> {
    return this.entries.entries();
  }

  /** Keeps `incoming` if it is later than the copy held; refuses (throws) a change that would exceed the bounds. */
  apply(key: string, incoming: Versioned): ApplyOutcome {
    const current = this.entries.get(key);
    if (!supersedes(incoming, current)) return 'stale';
    const before = current === undefined ? 0 : entryBytes(key, current);
    const after = entryBytes(key, incoming);
    if (current === undefined && this.entries.size >= this.limits.maxKeys) {
      throw new StoreFullError(`${this.entries.size} keys held, the bound is ${this.limits.maxKeys}`);
    }
    if (after > before && this.usedBytes - before + after > this.limits.maxBytes) {
      throw new StoreFullError(
        `${this.usedBytes} of ${this.limits.maxBytes} bytes used, this write needs ${after - before} more`,
      );
    }
    this.entries.set(key, incoming);
    this.usedBytes += after - before;
    this.mutationCount++;
    return 'applied';
  }

  /** Puts a copy read back from disk at start-up: no bound applies (they may have been lowered since it was written). */
  load(key: string, v: Versioned): void {
    const current = this.entries.get(key);
    if (current !== undefined) this.usedBytes -= entryBytes(key, current);
    this.entries.set(key, v);
    this.usedBytes += entryBytes(key, v);
    this.mutationCount++;
  }

  /** Drops the copy outright (not a delete: no tombstone). Used once a key's data lives elsewhere. */
  remove(key: string): boolean {
    const current = this.entries.get(key);
    if (current === undefined) return false;
    this.entries.delete(key);
    this.usedBytes -= entryBytes(key, current);
    this.mutationCount++;
    return true;
  }

  /** Nothing to wait for: a memory engine keeps nothing across a restart. */
  durable(): Promise<void> {
    return Promise.resolve();
  }

  loadState(name: string): unknown {
    return this.state.get(name);
  }

  saveState(name: string, value: unknown): void {
    this.state.set(name, value);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Drops the tombstones written before `wallMs`; returns how many. */
  collectTombstones(wallMs: number): number {
    let collected = 0;
    for (const [key, v] of this.entries) {
      if (v.value === null && v.ts.wall < wallMs) {
        this.remove(key);
        collected++;
      }
    }
    return collected;
  }
}
