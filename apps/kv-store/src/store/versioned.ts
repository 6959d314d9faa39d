import { compareTimestamps, type Timestamp } from './hlc.js';

/**
 * What a replica stores for a key: the value, or `null` for a delete. A delete is kept as a tombstone
 * (for a grace period) so that an older copy of the value on another replica cannot win it back.
 */
export interface Versioned {
  readonly ts: Timestamp;
  readonly value: string | null;
}

/** The later of two versions (last writer wins); `undefined` means "no copy". */
export function latest(a: Versioned | undefined, b: Versioned | undefined): Versioned | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return compareTimestamps(a.ts, b.ts) >= 0 ? a : b;
}

/** True when `candidate` would replace `current` under last-writer-wins. */
export function supersedes(candidate: Versioned, current: Versioned | undefined): boolean {
  return current === undefined || compareTimestamps(candidate.ts, current.ts) > 0;
}

const ENTRY_OVERHEAD_BYTES = 64;

/** Bytes an entry is charged against the store's bound (UTF-8 sizes plus a fixed overhead per entry). */
export function entryBytes(key: string, v: Versioned): number {
  return (
    Buffer.byteLength(key) +
    (v.value === null ? 0 : Buffer.byteLength(v.value)) +
    Buffer.byteLength(v.ts.node) +
    ENTRY_OVERHEAD_BYTES
  );
}
