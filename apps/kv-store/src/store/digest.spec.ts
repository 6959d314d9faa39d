import { describe, expect, it } from '@jest/globals';
import {
  bucketOf,
  comparePositions,
  DigestBuilder,
  diffSummaries,
  differingBuckets,
  listingPage,
  positionOf,
  withinListing,
  type ListingPosition,
} from './digest.js';
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
    const mine = new Map([
      ['same', ts(1)],
      ['mine-newer', ts(5)],
      ['theirs-newer', ts(1)],
      ['only-mine', ts(1)],
    ]);
    const theirs = new Map([
      ['same', ts(1)],
      ['mine-newer', ts(4)],
      ['theirs-newer', ts(2)],
      ['only-theirs', ts(1)],
    ]);
    const diff = diffSummaries(mine, theirs);
    expect(diff.pull.sort()).toEqual(['only-theirs', 'theirs-newer']);
    expect(diff.push.sort()).toEqual(['mine-newer', 'only-mine']);
  });
});

describe('digest listing pages', () => {
  const keys = Array.from({ length: 500 }, (_, i) => `key-${i}`);
  const inOrder = [...keys].sort((a, b) => comparePositions(positionOf(a), positionOf(b)));

  it('walk every key exactly once, page after page, in listing order', () => {
    const seen: string[] = [];
    let after: ListingPosition | undefined;
    for (let page = 0; page < 100; page++) {
      const { keys: listed, until } = listingPage(keys, after, 64);
      expect(listed.length).toBeLessThanOrEqual(64);
      seen.push(...[...listed].sort((a, b) => comparePositions(positionOf(a), positionOf(b))));
      if (!until) break;
      for (const key of listed) expect(withinListing(key, after, until)).toBe(true);
      after = until;
    }
    expect(seen).toEqual(inOrder);
  });

  it('do not depend on the order the keys come in', () => {
    const page = listingPage([...keys].reverse(), undefined, 50);
    expect(new Set(page.keys)).toEqual(new Set(inOrder.slice(0, 50)));
    expect(page.until).toEqual(positionOf(inOrder[49]));
  });

  it('order keys of the same hash by the key, so a cut between them loses neither', () => {
    // Known FNV-1a 32-bit collisions: each pair has one hash.
    const pairs = [
      ['costarring', 'liquid'],
      ['declinate', 'macallums'],
      ['altarage', 'zinke'],
    ];
    for (const [x, y] of pairs) expect(positionOf(x)[0]).toBe(positionOf(y)[0]);
    const colliding = pairs.flat();
    const seen: string[] = [];
    let after: ListingPosition | undefined;
    for (let page = 0; page < 10; page++) {
      const { keys: listed, until } = listingPage(colliding, after, 1); // a cut between every pair
      seen.push(...listed);
      if (!until) break;
      after = until;
    }
    expect(seen.sort()).toEqual([...colliding].sort());
  });

  it('refuse an empty page', () => {
    expect(() => listingPage(keys, undefined, 0)).toThrow(/at least one key/);
  });
});
