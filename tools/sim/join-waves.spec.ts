import { describe, expect, it } from '@jest/globals';
import { runJoinWaves, SimPlanners, type JoinWaveOptions } from './join-waves.js';
import { Simulation } from './simulation.js';

// Join waves on real gossip cores and the library's TokenPlanner, at small N on the virtual clock.
const quiet = (): void => {};
const options: JoinWaveOptions = { initial: 8, wave: 8, spreadMs: 300, vnodes: 16, maxWaveMs: 60_000 };

describe('join waves (virtual clock)', () => {
  it('8 together, then 8 together: one balanced ring as soon as everyone sees everyone up; deterministic', () => {
    const run = () => runJoinWaves(new Simulation({ nodes: 16, seed: 5 }), options, quiet);
    const waves = run();
    expect(waves).toHaveLength(2);
    for (const w of waves) {
      expect(w.rounds_to_agreed_ring).not.toBeNull();
      expect(w.rounds_to_settled).not.toBeNull();
      // The ring waits for the membership and for nothing else (a joiner owns its part one round
      // after first hearing the cluster, which the membership takes about as long to spread).
      expect(w.rounds_to_agreed_ring!).toBeLessThanOrEqual(w.rounds_to_all_up! + 1);
      expect(w.max_over_mean).toBeLessThanOrEqual(1.1);
      expect(w.min_over_mean).toBeGreaterThanOrEqual(0.9);
    }
    // The second wave moved the observer's ring more than its share, but boundedly so.
    expect(waves[1].moved_over_ideal).toBeGreaterThanOrEqual(1);
    expect(waves[1].moved_over_ideal).toBeLessThan(4);
    expect(JSON.stringify(run())).toBe(JSON.stringify(waves));
  });

  it('agreement by equal views is agreement of the rings every node builds', () => {
    const sim = new Simulation({ nodes: 8, seed: 4 });
    const planners = new SimPlanners(sim, 16);
    for (const n of sim.startMore(8, 500)) planners.attach(n);
    sim.runFor(500);
    let disagreed = false;
    const took = sim.runUntilTrue(
      () => {
        const agreed = planners.agreed();
        if (!agreed) disagreed ||= new Set(sim.liveNodes().map((n) => planners.ringOf(n).checksum)).size > 1;
        return agreed;
      },
      100,
      60_000,
    );
    expect(took).not.toBeNull();
    expect(disagreed).toBe(true);
    const rings = sim.liveNodes().map((n) => planners.ringOf(n));
    expect(new Set(rings.map((r) => r.checksum)).size).toBe(1);
    expect(rings[0].nodeIds).toHaveLength(8);
  });
});
