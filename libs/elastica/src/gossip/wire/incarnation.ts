/**
 * A 48-bit reference to one incarnation (node id + generation). Digests and deltas name owners by it
 * instead of by id and generation, which is what keeps a digest entry at about 9 bytes. Collisions are
 * about N^2 / 2^49 (2e-9 at N = 1000); an unknown ref just makes the receiver ask for the whole state.
 */
export function incarnationRef(id: string, generation: number): number {
  const text = `${id}\u0000${generation}`;
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ code, 0x01000193);
    h2 = Math.imul(h2 ^ code, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  return (fmix32(h1) >>> 0) * 0x10000 + (fmix32(h2) & 0xffff);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
