import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { KvCluster } from './harness/kv-cluster.js';
import { always } from '../support/always.js';
import { until } from '../support/until.js';
import { recordTiming } from './harness/artifacts.js';
import { describeChaos } from './harness/preflight.js';
import { DEADLINE, SETUP_TIMEOUT, startConvergedCluster } from './harness/scenario.js';

// 10% random loss on every link between nodes for two minutes (nftables `numgen random mod 100 < 10
// drop` in every namespace): no false conviction (neither in any view sampled, nor in any node's log of
// membership events, which also holds a conviction undone between two samples), no crash. The harness's own requests are exempt,
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

  it(
    'convicts nobody and nobody crashes',
    async () => {
      // A conviction undone within a second could fall between two samples of the views; each node's
      // event log keeps every membership event it had, so it is read too, from where it stood before the
      // loss: a `down` of anyone (every node stays alive) at any moment of the window fails the test.
      const cursor = new Map<number, number>();
      for (const i of cluster.indexes()) cursor.set(i, Math.max(0, ...(await cluster.events(i)).map((e) => e.seq)));
      const seen = new Map<string, number>();
      const convictions = async (): Promise<true | string> => {
        for (const i of cluster.indexes()) {
          const events = await cluster.events(i, cursor.get(i));
          if (events.length === 0) continue;
          // The log is bounded (oldest dropped first): a gap means events went unread, so no proof.
          if (events[0].seq !== cursor.get(i)! + 1)
            return `node ${i}'s event log dropped events ${cursor.get(i)! + 1}..${events[0].seq - 1} between two reads`;
          cursor.set(i, events[events.length - 1].seq);
          for (const e of events) seen.set(e.type, (seen.get(e.type) ?? 0) + 1);
          const down = events.filter((e) => e.type === 'down' && cluster.ids.includes(e.nodeId));
          if (down.length > 0)
            return `node ${i} marked ${down.map((e) => `${e.nodeId} down at ${new Date(e.at).toISOString()}`).join(', ')}`;
        }
        return true;
      };
      cluster.loss(LOSS_PERCENT);
      let maxPhi = 0;
      // The fault's duration, sampled once a second: at every sample, every node sees every node up, and
      // no node's event log has a `down` since the last look.
      await always(
        'no false conviction under loss',
        { samples: LOSS_DURATION_MS / SAMPLE_EVERY_MS, intervalMs: SAMPLE_EVERY_MS },
        async () => {
          const crashes = cluster.crashes();
          if (crashes.length > 0) return `crashed: ${JSON.stringify(crashes)}`;
          const convicted = await convictions();
          if (convicted !== true) return convicted;
          for (const i of cluster.indexes()) {
            const view = await cluster.view(i);
            for (const m of view.members) {
              if (m.id !== view.self) maxPhi = Math.max(maxPhi, m.phi);
              if (m.status !== 'up') return `node ${i} sees ${m.id} ${m.status} (phi ${m.phi})`;
            }
            if (view.members.length !== cluster.size) return `node ${i} sees ${view.members.length} members`;
          }
          return true;
        },
      );
      // The last second of the window, logged after the last sample.
      expect(await convictions()).toBe(true);
      cluster.heal();
      recordTiming(SUITE, 'loss_window', LOSS_DURATION_MS, {
        loss_percent: LOSS_PERCENT,
        max_phi_seen: maxPhi,
        events_seen: Object.fromEntries(seen),
      });
      expect(cluster.crashes()).toEqual([]);
      expect(cluster.nodes.every((n) => n.running)).toBe(true);

      // The event check can fail: a node really killed now shows up in it as a `down` (the killed node's
      // own log cannot be read, which counts as "not yet", so the others' logs decide).
      const victim = cluster.size - 1;
      await cluster.nodes[victim].stop();
      const verdict = await until(
        "the event check to catch the killed node's conviction",
        async () => {
          const found = await convictions();
          return found !== true && found;
        },
        DEADLINE.detect,
      );
      expect(verdict).toMatch(`marked ${cluster.ids[victim]} down`);
    },
    LOSS_DURATION_MS + 180_000,
  );
});
