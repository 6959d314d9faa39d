import { randomInt, type Random } from '../common/random.js';
import type { EndpointState } from './endpoint-state.js';
import type { SeedContact } from './seed-contact.js';

/**
 * The addresses this round gossips with: `fanout` random live peers, now and then an unreachable one
 * and a seed (Cassandra's rule: docs/ARCHITECTURE.md, Gossip › Peer choice). Reorders `live`.
 */
export function choosePeers(
  live: EndpointState[],
  unreachable: readonly EndpointState[],
  fanout: number,
  seeds: SeedContact,
  random: Random,
  nowMs: number,
): Set<string> {
  const targets = new Set<string>();
  for (let i = 0; i < fanout && i < live.length; i++) {
    const j = i + randomInt(random, live.length - i);
    const picked = live[j];
    live[j] = live[i];
    live[i] = picked;
    targets.add(picked.address);
  }
  if (unreachable.length > 0 && random.next() < unreachable.length / (live.length + 1))
    targets.add(unreachable[randomInt(random, unreachable.length)].address);
  seeds.addTo(targets, live.length, unreachable.length, nowMs);
  return targets;
}
