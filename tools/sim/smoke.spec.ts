import { describe, expect, it } from '@jest/globals';
import { Simulation } from './simulation.js';

describe('smoke', () => {
  it('detects', () => {
    const sim = new Simulation({ nodes: 10, seed: 1 });
    sim.start();
    sim.runUntilTrue(() => sim.trueMembership(), 100, 60_000);
    sim.runFor(5000);
    const v = sim.nodes[5]!;
    sim.crash(v);
    const o = sim.nodes[1]!;
    for (let i = 0; i < 15; i++) {
      sim.runFor(1000);
      console.log(i, o.core.statusOf(v.id), o.liveness.detectors.snapshot(v.id, sim.now), o.core.member(v.id)?.heartbeat);
    }
    expect(o.core.statusOf(v.id)).toBe('down');
  });
});
