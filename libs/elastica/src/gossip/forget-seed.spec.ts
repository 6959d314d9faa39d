import { describe, expect, it } from '@jest/globals';
import { SeededRandom } from '../common/random.js';
import { DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP } from '../options/defaults.js';
import { GossipNode } from './gossip-node.js';
import { PeerLiveness } from './peer-liveness.js';

const T0 = 1_700_000_000_000;

function node(seeds: string[]): GossipNode {
  return new GossipNode({
    id: 'n0',
    address: '127.0.0.1:7000',
    generation: T0,
    seeds,
    options: DEFAULT_GOSSIP,
    random: new SeededRandom(1),
    liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
  });
}

/** Ticks `rounds` gossip intervals; returns every address a message went to. */
function run(n: GossipNode, rounds: number, from = T0): string[] {
  const to: string[] = [];
  for (let i = 1; i <= rounds; i++) for (const out of n.tick(from + i * DEFAULT_GOSSIP.intervalMs)) to.push(out.to);
  return to;
}

describe('GossipNode.forgetSeed (a seed the network found to be this node)', () => {
  it('a node whose only seed is itself under another spelling stays joining until told, then goes up and stops trying it', () => {
    const n = node(['localhost:7000']);
    expect(run(n, 5)).toContain('localhost:7000');
    expect(n.member('n0')!.status).toBe('joining');
    n.forgetSeed('localhost:7000');
    expect(run(n, 40, T0 + 5 * DEFAULT_GOSSIP.intervalMs)).toEqual([]);
    expect(n.member('n0')!.status).toBe('up');
  });

  it('keeps the other seeds, and ignores an address that is no seed', () => {
    const n = node(['localhost:7000', '10.0.0.9:7000']);
    n.forgetSeed('10.0.0.1:7000');
    n.forgetSeed('localhost:7000');
    const to = run(n, 40);
    expect(new Set(to)).toEqual(new Set(['10.0.0.9:7000']));
    expect(n.member('n0')!.status).toBe('joining');
  });
});
