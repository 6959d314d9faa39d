// The gossiped list of incarnations an operator forgot (GossipService.forget): see docs/ARCHITECTURE.md,
// Gossip › Forgetting a node.

/** Internal gossip key (not user state, no change events): the incarnations this node forgot, newest first. */
export const FORGOTTEN_KEY = 'elastica.forgotten';
/**
 * Forgotten incarnations a node keeps published at most; older ones are withdrawn. A node that missed
 * 16 forgets in a row by one node keeps the oldest of them until `gossip.downExpiryMs` drops it anyway.
 */
export const MAX_FORGOTTEN = 16;

const MAX_REF = 2 ** 48;
const ENTRY = /^[0-9a-z]{1,10}$/;

/** Incarnation refs in base 36, space separated, newest first ("" for none). */
export function encodeForgotten(refs: readonly number[]): string {
  return refs.map((ref) => ref.toString(36)).join(' ');
}

/** Parses a forgotten value; throws a RangeError naming the problem when it is not one this node writes. */
export function decodeForgotten(value: string): number[] {
  if (value === '') return [];
  const parts = value.split(' ');
  if (parts.length > MAX_FORGOTTEN) throw new RangeError(`${parts.length} forgotten nodes, at most ${MAX_FORGOTTEN}`);
  return parts.map((part) => {
    if (!ENTRY.test(part)) throw new RangeError(`malformed forgotten ref ${JSON.stringify(part.slice(0, 40))}`);
    const ref = parseInt(part, 36);
    if (ref <= 0 || ref >= MAX_REF) throw new RangeError(`forgotten ref ${ref} is outside 1..2^48`);
    return ref;
  });
}
