// A small cluster of gossip cores with the default options, for the specs of the gossip folder.
import { SeededRandom } from '../../common/random.js';
import { DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP } from '../../options/defaults.js';
import { GossipNode } from '../gossip-node.js';
import { PeerLiveness } from '../peer-liveness.js';

export const T0 = 1_700_000_000_000;

export function clusterNode(i: number, generation: number, mtuBytes: number, seed: number): GossipNode {
  return new GossipNode({
    id: `n${i}`,
    address: `10.0.0.${i}:7000`,
    generation,
    seeds: ['10.0.0.0:7000'],
    options: { ...DEFAULT_GOSSIP, mtuBytes },
    random: new SeededRandom(seed),
    liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
  });
}

export function cluster(size: number, mtuBytes = 512, seed = 1): GossipNode[] {
  return Array.from({ length: size }, (_, i) => clusterNode(i, T0 + i, mtuBytes, seed * 100 + i));
}
