import { describe, expect, it } from '@jest/globals';
import { bucketOf, DigestBuilder, diffSummaries, differingBuckets } from './digest.js';
import type { Timestamp } from './hlc.js';

const ts = (wall: number, node = 'a'): Timestamp => ({ wall, logical: 0, node });

function digestOf(entries: [string, Timestamp][], buckets = 16) {
  const builder = new DigestBuilder(buckets);
  for (const [key, t] of entries) builder.add(key, t);
  return builder.build();
}

describe('anti-entropy digests', () => {
  const entries: [string, Timestamp][] = Array.from({ length: 200 }, (_, i) => [`key-${i}`, ts(i)]);

  it('are equal for the same entries in any order', () => {
    expect(differingBuckets(digestOf(entries), digestOf([...entries].reverse()))).toEqual([]);
  });

  it('point at exactly the bucket of a key that is missing or has another version', () => {
    const missing = entries.filter(([k]) => k !== 'key-7');
    expect(differingBuckets(digestOf(entries), digestOf(missing))).toEqual([bucketOf('key-7', 16)]);
    const changed = entries.map(([k, t]): [string, Timestamp] => (k === 'key-42' ? [k, ts(t.wall, 'b')] : [k, t]));
    expect(differingBuckets(digestOf(entries), digestOf(changed))).toEqual([bucketOf('key-42', 16)]);
  });

  it('refuse to compare digests of different bucket counts', () => {
    expect(() => differingBuckets(digestOf(entries, 16), digestOf(entries, 8))).toThrow(/16 and 8 buckets/);
  });

  it('spread keys over all buckets', () => {
    const used = new Set(entries.map(([k]) => bucketOf(k, 16)));
    expect(used.size).toBe(16);
  });

  it('diff listings into what to pull and what to push', () => {
    const mine = new Map([['same', ts(1)], ['mine-newer', ts(5)], ['theirs-newer', ts(1)], ['only-mine', ts(1)]]);
    const theirs = new Map([['same', ts(1)], ['mine-newer', ts(4)], ['theirs-newer', ts(2)], ['only-theirs', ts(1)]]);
    const diff = diffSummaries(mine, theirs);
    expect(diff.pull.sort()).toEqual(['only-theirs', 'theirs-newer']);
    expect(diff.push.sort()).toEqual(['mine-newer', 'only-mine']);
  });
});
