import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { murmur3, tokenOf } from './hash.js';

describe('tokenOf (MurmurHash3 x86 32-bit, seed 0, of the UTF-8 bytes)', () => {
  // Published MurmurHash3_x86_32 test vectors, plus our own pins for non-ASCII keys. If one of these
  // changes, every key of every running cluster moves: do not "fix" the expected values.
  const PINNED: [string, number][] = [
    ['', 0x00000000],
    ['a', 0x3c2569b2],
    ['hello', 0x248bfa47],
    ['Hello, world!', 0xc0363e43],
    ['The quick brown fox jumps over the lazy dog', 0x2e4ff723],
    ['user:42', 0xc7a6a375],
    ['ééé', 0x9d0a8a08],
    ['日本', 0xc4d9f942],
  ];

  it.each(PINNED)('pins %j', (key, expected) => {
    expect(tokenOf(key)).toBe(expected);
    expect(tokenOf(Buffer.from(key, 'utf8'))).toBe(expected);
  });

  it('matches the seeded reference vector', () => {
    expect(murmur3(new Uint8Array(0), 1)).toBe(0x514e28b7);
  });

  it('hashes any string exactly as its UTF-8 bytes, lone surrogates included', () => {
    const utf16 = fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 40,
    });
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), utf16, fc.string({ maxLength: 80 })),
        (key) => {
          const token = tokenOf(key);
          expect(token).toBe(murmur3(Buffer.from(key, 'utf8')));
          expect(Number.isInteger(token) && token >= 0 && token < 2 ** 32).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('spreads sequential keys evenly over the token space', () => {
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < 160_000; i++) buckets[tokenOf(`key-${i}`) >>> 28]++;
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });
});
