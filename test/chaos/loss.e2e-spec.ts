import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KvCluster } from './harness/kv-cluster.js';
import { always, recordTiming } from './harness/poll.js';
import { describeChaos } from './harness/preflight.js';
import { SETUP_TIMEOUT, startConvergedCluster } from './harness/scenario.js';

// 10% random loss on every link between nodes for two minutes (nftables `numgen random mod 100 < 10
// drop` in every namespace): no false conviction, no crash. The harness's own requests are exempt,
// so what it observes does not depend on the loss.
const SUITE = 'loss';
const LOSS_PERCENT = 10;
const LOSS_DURATION_MS = 120_000;
const SAMPLE_EVERY_MS = 1000;

describeChaos('chaos: 10% random loss on every link for two minutes', () => {
  let cluster: KvCluster;
  beforeAll(async () => {
    cluster = await startConvergedCluster({ suite: SUITE, suiteId: 4, nodes: 5 });
  }, SETUP_TIMEOUT);
  afterAll(async () => cluster?.destroy(), 60_000);

  it('convicts nobody and nobody crashes', async () => {
    cluster.loss(LOSS_PERCENT);
    let maxPhi = 0;
    // The fault's duration, sampled once a second: at every sample, every node sees every node up.
    await always('no false conviction under loss', { samples: LOSS_DURATION_MS / SAMPLE_EVERY_MS, intervalMs: SAMPLE_EVERY_MS }, async () => {
      const crashes = cluster.crashes();
      if (crashes.length > 0) return `crashed: ${JSON.stringify(crashes)}`;
      for (const i of cluster.indexes()) {
        const view = await cluster.view(i);
        for (const m of view.members) {
          if (m.id !== view.self) maxPhi = Math.max(maxPhi, m.phi);
          if (m.status !== 'up') return `node ${i} sees ${m.id} ${m.status} (phi ${m.phi})`;
        }
        if (view.members.length !== cluster.size) return `node ${i} sees ${view.members.length} members`;
      }
      return true;
    });
    cluster.heal();
    recordTiming(SUITE, 'loss_window', LOSS_DURATION_MS, { loss_percent: LOSS_PERCENT, max_phi_seen: maxPhi });
    expect(cluster.crashes()).toEqual([]);
    expect(cluster.nodes.every((n) => n.running)).toBe(true);
  }, LOSS_DURATION_MS + 120_000);
});
