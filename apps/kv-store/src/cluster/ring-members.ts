import { REPLACES_KEY, TOKENS_KEY } from 'elastica';

/** What this needs of a member, as `GossipService.members()` gives it. */
export interface MemberLike {
  id: string;
  status: string;
  state: Record<string, string>;
}

/**
 * Statuses of members that own ranges on the ring or would if they were up. `down` counts: the live
 * ring leaves it out, but it is still part of the cluster until it leaves, is replaced, or gossip
 * forgets it (`gossip.downExpiryMs`, three days by default). `joining` does not: a node that never
 * owned a range adds no copy yet (a restarted node is back `up` within a gossip round or two).
 */
const COUNTED = new Set(['up', 'leaving', 'down']);

/**
 * How many members the ring has, counting those that are down now: the cluster's size as far as
 * quorums go. A member counts once it has published its tokens and until it has left or another node
 * has taken its tokens over (`partitioner.replaces`).
 */
export function countRingMembers(members: readonly MemberLike[]): number {
  const replaced = new Set<string>();
  for (const m of members) {
    const target = m.state[REPLACES_KEY];
    if (target && m.status !== 'left') replaced.add(target);
  }
  return members.filter((m) => COUNTED.has(m.status) && (m.state[TOKENS_KEY] ?? '') !== '' && !replaced.has(m.id)).length;
}
