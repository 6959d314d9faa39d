import { fnv1a } from './hash.js';
import { compareTimestamps, type Timestamp } from './hlc.js';

/**
 * Anti-entropy compares two replicas' copies of the keys they share cheaply: keys are spread over a
 * fixed number of buckets, each bucket summarised by its entry count and two order-independent
 * combinations (xor and sum) of per-entry fingerprints of (key, timestamp). Equal summaries mean equal
 * buckets (barring a 64-bit collision, which only delays repair to the next change); only the keys of
 * differing buckets are then listed and compared.
 */
export type BucketDigest = readonly [count: number, xor: number, sum: number];

export function bucketOf(key: string, buckets: number): number {
  return fnv1a(key) % buckets;
}

function fingerprint(key: string, ts: Timestamp): number {
  return fnv1a(`${key}\u0000${ts.wall}.${ts.logical}.${ts.node}`, 0x9747b28c);
}

export class DigestBuilder {
  private readonly counts: number[];
  private readonly xors: number[];
  private readonly sums: number[];

  constructor(readonly buckets: number) {
    this.counts = new Array<number>(buckets).fill(0);
    this.xors = new Array<number>(buckets).fill(0);
    this.sums = new Array<number>(buckets).fill(0);
  }

  add(key: string, ts: Timestamp): void {
    const b = bucketOf(key, this.buckets);
    const f = fingerprint(key, ts);
    this.counts[b]++;
    this.xors[b] = (this.xors[b] ^ f) >>> 0;
    this.sums[b] = (this.sums[b] + f) >>> 0;
  }

  build(): BucketDigest[] {
    return this.counts.map((count, b) => [count, this.xors[b], this.sums[b]] as const);
  }
}

/** Indexes of the buckets whose summaries differ. */
export function differingBuckets(mine: readonly BucketDigest[], theirs: readonly BucketDigest[]): number[] {
  if (mine.length !== theirs.length)
    throw new Error(`digests of ${mine.length} and ${theirs.length} buckets cannot be compared`);
  const differing: number[] = [];
  for (let b = 0; b < mine.length; b++) {
    const [c1, x1, s1] = mine[b];
    const [c2, x2, s2] = theirs[b];
    if (c1 !== c2 || x1 !== x2 || s1 !== s2) differing.push(b);
  }
  return differing;
}

export interface SummaryDiff {
  /** Keys the other side has a later version of, or that only it has. */
  pull: string[];
  /** Keys this side has a later version of, or that only it has. */
  push: string[];
}

/** Compares key → timestamp listings of the same buckets on two replicas. */
export function diffSummaries(
  mine: ReadonlyMap<string, Timestamp>,
  theirs: ReadonlyMap<string, Timestamp>,
): SummaryDiff {
  const pull: string[] = [];
  const push: string[] = [];
  for (const [key, ts] of theirs) {
    const own = mine.get(key);
    if (own === undefined || compareTimestamps(ts, own) > 0) pull.push(key);
    else if (compareTimestamps(ts, own) < 0) push.push(key);
  }
  for (const key of mine.keys()) if (!theirs.has(key)) push.push(key);
  return { pull, push };
}

/**
 * Where a key stands in the order digest listings follow: its hash, then the key itself (so two keys
 * with the same hash are still ordered). Unlike storage order it does not depend on which node lists,
 * nor on when a key was first written, so a cursor into it means the same on both sides.
 */
export type ListingPosition = readonly [hash: number, key: string];

export function positionOf(key: string): ListingPosition {
  return [fnv1a(key), key];
}

export function comparePositions(a: ListingPosition, b: ListingPosition): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/** True when `key` lies in (after, until]: a missing bound is open. */
export function withinListing(
  key: string,
  after: ListingPosition | undefined,
  until: ListingPosition | undefined,
): boolean {
  const position = positionOf(key);
  return (
    (after === undefined || comparePositions(position, after) > 0) &&
    (until === undefined || comparePositions(position, until) <= 0)
  );
}

export interface ListingPage {
  keys: string[];
  /** Set when keys were left out: the listing is complete up to this position (inclusive), and goes on after it. */
  until?: ListingPosition;
}

/**
 * The first `limit` of `keys` in listing order after `after`. Selects through a sorted typed array of
 * hashes rather than sorting the keys themselves, so a page of a few thousand out of a million keys
 * costs one numeric sort.
 */
export function listingPage(keys: Iterable<string>, after: ListingPosition | undefined, limit: number): ListingPage {
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`a listing page holds at least one key, got a limit of ${limit}`);
  const candidates: string[] = [];
  const hashes: number[] = [];
  for (const key of keys) {
    const position = positionOf(key);
    if (after !== undefined && comparePositions(position, after) <= 0) continue;
    candidates.push(key);
    hashes.push(position[0]);
  }
  if (candidates.length <= limit) return { keys: candidates };
  const sorted = Uint32Array.from(hashes).sort();
  const threshold = sorted[limit - 1];
  const page: string[] = [];
  const tied: string[] = [];
  for (let i = 0; i < candidates.length; i++) {
    if (hashes[i] < threshold) page.push(candidates[i]);
    else if (hashes[i] === threshold) tied.push(candidates[i]);
  }
  tied.sort();
  const fromTied = tied.slice(0, limit - page.length);
  page.push(...fromTied);
  return { keys: page, until: [threshold, fromTied[fromTied.length - 1]] };
}
