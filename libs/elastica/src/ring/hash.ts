// The key hash: MurmurHash3 (x86, 32-bit, seed 0) of the key's UTF-8 bytes. Chosen because it is
// public, specified byte for byte, fast in plain JavaScript (Math.imul, no native build), and gives the
// same token on every platform and every version of this library. Changing it would move every key in
// every running cluster: hash.spec.ts pins known values so that cannot happen by accident.

/** Tokens are unsigned 32-bit integers; the ring is [0, 2^32) and wraps. */
export const TOKEN_SPACE = 0x1_0000_0000;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixWord(h: number, k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, C2);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h: number, tail: number, tailBytes: number, length: number): number {
  if (tailBytes > 0) {
    let k = Math.imul(tail, C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3 x86 32-bit of raw bytes. */
export function murmur3(bytes: Uint8Array, seed = 0): number {
  let h = seed | 0;
  const n = bytes.length;
  const blocks = n & ~3;
  for (let i = 0; i < blocks; i += 4) {
    h = mixWord(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  }
  let tail = 0;
  for (let i = n - 1; i >= blocks; i--) tail = (tail << 8) | bytes[i];
  return finish(h, tail, n & 3, n);
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(1024);

function murmur3Utf8(key: string): number {
  // Worst case 3 bytes per UTF-16 unit (lone surrogates become U+FFFD, as TextEncoder does).
  if (scratch.length < key.length * 3) scratch = new Uint8Array(Math.max(key.length * 3, scratch.length * 2));
  const { written } = encoder.encodeInto(key, scratch);
  return murmur3(scratch.subarray(0, written));
}

/**
 * The token of a key: where it sits on the ring. Strings hash as their UTF-8 bytes; byte arrays as
 * themselves, so `tokenOf('abc') === tokenOf(Buffer.from('abc'))`.
 */
export function tokenOf(key: string | Uint8Array): number {
  if (typeof key !== 'string') return murmur3(key);
  // ASCII fast path: the bytes are the char codes, so read them straight from the string. Any other
  // character sends the whole key to the UTF-8 path, which gives the same answer, only slower.
  const n = key.length;
  const blocks = n & ~3;
  let h = 0;
  let i = 0;
  for (; i < blocks; i += 4) {
    const c0 = key.charCodeAt(i),
      c1 = key.charCodeAt(i + 1),
      c2 = key.charCodeAt(i + 2),
      c3 = key.charCodeAt(i + 3);
    if ((c0 | c1 | c2 | c3) > 0x7f) return murmur3Utf8(key);
    h = mixWord(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  let tail = 0;
  for (let shift = 0; i < n; i++, shift += 8) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return murmur3Utf8(key);
    tail |= c << shift;
  }
  return finish(h, tail, n & 3, n);
}
