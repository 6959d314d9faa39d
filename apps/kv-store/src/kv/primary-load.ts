import { entryBytes, type Versioned } from '../store/versioned.js';

/**
 * The load this node reports to the partitioner (`reportLoad`): the bytes of the keys it is the first
 * replica of. A joiner takes primary ranges, so that is the load it relieves. Every copy held would
 * count each key on three nodes: a range holding three times the data would then show on its owner
 * as a quarter more than the others in a five-node cluster, inside the partitioner's ±25% margin, and
 * the joiner would not see it.
 */
export function primaryBytes(
  entries: { keys(): Iterable<string>; get(key: string): Versioned | undefined },
  isPrimary: (key: string) => boolean,
): number {
  let bytes = 0;
  for (const key of entries.keys()) {
    const v = entries.get(key);
    if (v !== undefined && isPrimary(key)) bytes += entryBytes(key, v);
  }
  return bytes;
}
