import type { Versioned } from './versioned.js';

export interface StorageLimits {
  /** Most entries (values and tombstones) held. */
  maxKeys: number;
  /** Most bytes held, as counted by `entryBytes`: the store's configured size. */
  maxBytes: number;
}

/** A write past the store's configured size (keys or bytes): refused, nothing changed. HTTP 507. */
export class StoreFullError extends Error {
  constructor(detail: string) {
    super(`this node's store is full: ${detail}`);
    this.name = 'StoreFullError';
  }
}

/** The disk refused a write (no space left, or its file cannot grow): not acknowledged, nothing kept. HTTP 507. */
export class DiskFullError extends Error {
  constructor(detail: string) {
    super(`this node's disk is full: ${detail}`);
    this.name = 'DiskFullError';
  }
}

export type ApplyOutcome = 'applied' | 'stale';

/**
 * One node's copies, whatever keeps them (`MemoryStorageEngine`, `LmdbStorageEngine`). Reads and
 * `apply` are synchronous and see every applied change at once; `durable()` says when those changes
 * are on disk. Every write goes through `apply`, which keeps the later version (last writer wins),
 * so applying the same versions in any order, any number of times, ends in the same state:
 * replication, read repair, anti-entropy and handoff all rely on it.
 */
export interface StorageEngine {
  readonly kind: 'memory' | 'lmdb';
  /** Entries held (values and tombstones). */
  readonly size: number;
  /** Bytes held, as counted by `entryBytes`. */
  readonly bytes: number;
  /** Grows by one on every change; lets a caller tell whether anything changed since it last looked. */
  readonly mutations: number;
  readonly capacity: StorageLimits;
  get(key: string): Versioned | undefined;
  has(key: string): boolean;
  keys(): IterableIterator<string>;
  all(): IterableIterator<[string, Versioned]>;
  /** Keeps `incoming` if it is later than the copy held; refuses (throws StoreFullError, DiskFullError) a change past the bounds. */
  apply(key: string, incoming: Versioned): ApplyOutcome;
  /** Drops the copy outright (not a delete: no tombstone). Used once a key's data lives elsewhere. */
  remove(key: string): boolean;
  /** Drops the tombstones written before `wallMs`; returns how many. */
  collectTombstones(wallMs: number): number;
  /**
   * Resolves once every change made so far is on disk; rejects (DiskFullError) when the last of them
   * could not be written, and then that change is undone here too. A replica acknowledges a write only
   * after this.
   */
  durable(): Promise<void>;
  /** The node's own bookkeeping kept beside its data (clock, tokens, anti-entropy cursors): JSON values. */
  loadState(name: string): unknown;
  saveState(name: string, value: unknown): void;
  close(): Promise<void>;
}
