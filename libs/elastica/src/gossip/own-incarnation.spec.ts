import { describe, expect, it } from '@jest/globals';
import { SeededRandom } from '../common/random.js';
import { DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP } from '../options/defaults.js';
import { GossipNode } from './gossip-node.js';
import { PeerLiveness } from './peer-liveness.js';
import { cluster, T0 } from './testing/gossip-cluster.js';

describe('GossipNode (Scuttlebutt invariants, property-based)', () => {
  it('refuses set() of a value that could never fit one message', () => {
    const [a] = cluster(1, 512);
    expect(() => a.set('big', 'x'.repeat(600), T0)).toThrow(/gossip\.mtuBytes/);
    expect(() => a.set('', 'x', T0)).toThrow(/non-empty/);
  });

  it('refuses set() past maxStateBytes, keeping room for its own verdicts', () => {
    const a = new GossipNode({
      id: 'a',
      address: 'a:1',
      generation: T0,
      seeds: [],
      options: { ...DEFAULT_GOSSIP, maxStateBytes: 8192 },
      random: new SeededRandom(1),
      liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
    });
    a.set('k1', 'x'.repeat(3000), T0);
    a.set('k2', 'x'.repeat(3000), T0);
    expect(() => a.set('k3', 'x'.repeat(1000), T0)).toThrow(
      /"k3" would bring this node's state to \d+ bytes; at most \d+ allowed \(gossip\.maxStateBytes 8192/,
    );
    a.set('k2', 'y'.repeat(3000), T0); // same size: still fits
    expect(a.get('a', 'k3')).toBeUndefined();
    expect(a.get('a', 'k2')).toBe('y'.repeat(3000));
  });

  it('set() keeps its versions within what peers accept', () => {
    const a = new GossipNode({
      id: 'a',
      address: 'a:1',
      generation: T0,
      seeds: [],
      options: { ...DEFAULT_GOSSIP, maxGenerationSkewMs: 10 },
      random: new SeededRandom(1),
      liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
    });
    for (let i = 1; i <= 5; i++) a.set('k', `v${i}`, T0);
    expect(() => a.set('k', 'v6', T0)).toThrow(/version 6.*gossip\.maxGenerationSkewMs/);
    expect(a.get('a', 'k')).toBe('v5');
    a.set('k', 'v6', T0 + 1);
    expect(a.get('a', 'k')).toBe('v6');
  });
});
