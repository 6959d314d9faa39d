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
  if (mine.length !== theirs.length) throw new Error(`digests of ${mine.length} and ${theirs.length} buckets cannot be compared`);
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
export function diffSummaries(mine: ReadonlyMap<string, Timestamp>, theirs: ReadonlyMap<string, Timestamp>): SummaryDiff {
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
