/**
 * FNV-1a over the string's UTF-16 code units. Only ever compared between nodes running this same code
 * (anti-entropy buckets and entry fingerprints), so portability across languages does not matter; speed does.
 */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
