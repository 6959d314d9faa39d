import { REPLACES_KEY, TOKENS_KEY } from 'elastica';

/** What this needs of a member, as `GossipService.members()` gives it. */
export interface MemberLike {
  id: string;
  status: string;
  state: Record<string, string>;
}

/**
 * How many members the ring has, counting those that are down now: the cluster's size as far as
 * quorums go. The live ones are those of the partitioner's ring (`onRing`), the very ring the key's
 * replicas come from: counted from gossip instead, a node whose tokens had just arrived, not yet on the
 * ring, raised the quorum above the replicas the ring could offer, and a three-node cluster still
 * forming answered 503 ("1 of the key's 2 replicas is up"). Added to them, the members that are down
 * (off the live ring, still part of the cluster) and have tokens, until they leave, are replaced by
 * another node (`partitioner.replaces`), or gossip forgets them (`gossip.downExpiryMs`, three days).
 */
export function countRingMembers(members: readonly MemberLike[], onRing: readonly string[]): number {
  const ring = new Set(onRing);
  const replaced = new Set<string>();
  for (const m of members) {
    const target = m.state[REPLACES_KEY];
    if (target && m.status !== 'left') replaced.add(target);
  }
  let count = ring.size;
  for (const m of members) {
    if (m.status === 'down' && !ring.has(m.id) && (m.state[TOKENS_KEY] ?? '') !== '' && !replaced.has(m.id)) count++;
  }
  return count;
}
