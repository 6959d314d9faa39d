import { describe, expect, it } from '@jest/globals';
import { Simulation } from './simulation.js';

describe('smoke', () => {
  it('converges', () => {
    const sim = new Simulation({ nodes: 10, seed: 1 });
    sim.start();
    const t = sim.runUntilTrue(() => sim.trueMembership(), 100, 60_000);
    console.log('converged after', t, sim.notices.slice(0, 5));
    console.log(sim.view(sim.nodes[3]!));
    expect(t).not.toBeNull();
  });
});
