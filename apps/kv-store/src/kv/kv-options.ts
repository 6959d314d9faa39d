import { DEFAULT_HTTP_LIMITS, type HttpLimitOptions } from '../http/http-limits.js';
import { DEFAULT_KV_OPTIONS, type KvNodeOptions } from '../replication/kv-node.js';

export interface KvStoreOptions {
  node: KvNodeOptions;
  /** Anti-entropy with every peer this often, besides the rounds ring changes and returning members start. */
  syncIntervalMs: number;
  /** Delay between a ring or membership change and the placement round it starts (changes come in bursts). */
  changeDelayMs: number;
  /** Tombstone collection this often. */
  gcIntervalMs: number;
  /**
   * Handoff passes a decommission makes (one second apart) before giving up: before the departure it
   * then aborts and the node stays; after it, the node exits with code 1.
   */
  handoffAttempts: number;
  /** Bounds on HTTP connections and on request body bytes in flight. */
  http: HttpLimitOptions;
}

export const DEFAULT_KV_STORE_OPTIONS: KvStoreOptions = {
  node: DEFAULT_KV_OPTIONS,
  syncIntervalMs: 5000,
  changeDelayMs: 500,
  gcIntervalMs: 60_000,
  handoffAttempts: 5,
  http: DEFAULT_HTTP_LIMITS,
};

export const KV_STORE_OPTIONS = Symbol('kv-store:options');
/** The node's StorageEngine (see store/data-dir.ts); a memory engine when the module is registered without one. */
export const STORAGE_ENGINE = Symbol('kv-store:storage-engine');
