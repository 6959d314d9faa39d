import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { canonicalView, type KvCluster } from './harness/kv-cluster.js';
import { always } from '../support/always.js';
import { until } from '../support/until.js';
import { recordTiming } from './harness/artifacts.js';
import { describeChaos } from './harness/preflight.js';
import { DEADLINE, SETUP_TIMEOUT, SIMULATOR_HEAL_BOUND_MS, sees, startConvergedCluster } from './harness/scenario.js';

// A 5/5 partition of 10 nodes for 60 s (the simulator's scenario: `npm run sim -- --nodes 10 --scenario
// partition --partition-s 60`), healed. Each node in its own namespace; the cut is nftables rules
// dropping every packet between the halves, both ways.
const SUITE = 'partition';
const A = [0, 1, 2, 3, 4];
const B = [5, 6, 7, 8, 9];
const PARTITION_MS = 60_000;
const SAMPLE_EVERY_MS = 500;

describeChaos('chaos: a 5/5 partition of 10 nodes, healed', () => {
  let cluster: KvCluster;
  beforeAll(async () => {
    cluster = await startConvergedCluster({ suite: SUITE, suiteId: 2, nodes: 10 });
  }, SETUP_TIMEOUT);
  afterAll(async () => cluster?.destroy(), 60_000);

  it(
    'each side keeps serving its own members and marks the other side down',
    async () => {
      cluster.partition(A, B);
      const started = Date.now();
      for (const [side, other] of [
        [A, B],
        [B, A],
      ] as const) {
        await cluster.waitForViews(
          `side ${side.join(',')} sees its own up and the other down`,
          side,
          (v) => sees(cluster, v, side, 'up') && sees(cluster, v, other, 'down'),
          DEADLINE.detect,
        );
      }
      recordTiming(SUITE, 'partition_to_both_sides_agree', Date.now() - started);
      // For the rest of the cut (at least ten gossip rounds), no side loses one of its own: each node keeps
      // answering and keeps every member of its side up.
      const samples = Math.max(20, Math.ceil((PARTITION_MS - (Date.now() - started)) / SAMPLE_EVERY_MS));
      await always('each side stays whole', { samples, intervalMs: SAMPLE_EVERY_MS }, async () => {
        for (const [side, other] of [
          [A, B],
          [B, A],
        ] as const) {
          for (const i of side) {
            const view = await cluster.view(i);
            if (!sees(cluster, view, side, 'up') || !sees(cluster, view, other, 'down'))
              return `node ${i}: ${JSON.stringify(view.members.map((m) => [m.id, m.status]))}`;
          }
        }
        return true;
      });
    },
    PARTITION_MS + 120_000,
  );

  it('after healing, every node has the same view: everyone up, same generations, same ring', async () => {
    cluster.heal();
    const healed = Date.now();
    const all = cluster.indexes();
    await cluster.waitForViews('everyone up everywhere', all, (v) => sees(cluster, v, all, 'up'), DEADLINE.recover);
    const allUpMs = Date.now() - healed;
    const value = await until(
      'identical views on every node',
      async () => {
        const views = await Promise.all(all.map((i) => cluster.view(i)));
        const canon = new Set(views.map(canonicalView));
        return canon.size === 1 && views.every((v) => sees(cluster, v, all, 'up')) ? [...canon][0] : undefined;
      },
      DEADLINE.recover,
    );
    const identicalMs = Date.now() - healed;
    recordTiming(SUITE, 'heal_to_identical_views', identicalMs, {
      all_up_ms: allUpMs,
      rounds: identicalMs / 1000,
      bound_ms: SIMULATOR_HEAL_BOUND_MS,
    });
    expect(value.split(' | ')[0].split(',')).toHaveLength(10);
    // Asserted, as the issue asks, against the simulator's bound for the same scenario (see
    // SIMULATOR_HEAL_BOUND_MS); DEADLINE.recover only stopped the wait from hanging.
    expect(identicalMs).toBeLessThanOrEqual(SIMULATOR_HEAL_BOUND_MS);
    expect(cluster.crashes()).toEqual([]);
  }, 180_000);
});
