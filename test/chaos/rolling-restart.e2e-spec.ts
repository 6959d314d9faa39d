import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { KvCluster } from './harness/kv-cluster.js';
import { KvLoad, firstOf, readBack } from './harness/kv-load.js';
import { until } from '../support/until.js';
import { recordTiming } from './harness/artifacts.js';
import { describeChaos } from './harness/preflight.js';
import {
  DEADLINE,
  SETUP_TIMEOUT,
  generationOf,
  others,
  sees,
  startConvergedCluster,
  waitForRing,
} from './harness/scenario.js';

// A rolling restart of every node under load: reads and writes keep succeeding throughout. One node
// at a time is taken out of the clients' rotation (as a load balancer would), stopped with SIGTERM,
// started again, and put back once every node sees it up with its new generation.
const SUITE = 'rolling-restart';
const OPS_PER_STEP = 100;
/** Written once before the roll and never again, read back after each node's restart. */
const PINNED_KEYS = 100;

describeChaos('chaos: a rolling restart of every node under load', () => {
  let cluster: KvCluster;
  let load: KvLoad;
  beforeAll(async () => {
    cluster = await startConvergedCluster({ suite: SUITE, suiteId: 7, nodes: 5 });
    // Serving starts once the ring is whole (cold-start token choice): the roll starts from there.
    await waitForRing(cluster);
  }, SETUP_TIMEOUT);
  afterAll(async () => {
    await load?.stop();
    await cluster?.destroy();
  }, 60_000);

  it('keeps every read and write succeeding, and every read sees the last acknowledged write', async () => {
    const pinned = new Map<string, string>();
    for (let k = 0; k < PINNED_KEYS; k++) {
      const res = await cluster.put(k % cluster.size, `pinned-${k}`, `p${k}`);
      expect(res.status).toBe(204);
      pinned.set(`pinned-${k}`, `p${k}`);
    }
    // Each client overwrites and reads back its own 25 keys, half reads, half writes.
    load = new KvLoad(cluster, { workers: 4, keysPerWorker: 25, readShare: 0.5, pauseMs: 5, prefix: 'roll' });
    load.start();
    const ops = () => load.ackedWrites + load.okReads;
    await until(`${OPS_PER_STEP} operations before the first restart`, () => ops() >= OPS_PER_STEP, DEADLINE.converge);

    for (const i of cluster.indexes()) {
      const oldGeneration = generationOf(cluster, await cluster.view(others(cluster, i)[0]), i)!;
      await load.exclude(i);
      const at = Date.now();
      const opsBefore = ops();
      await cluster.restart(i, 'terminate');
      await cluster.waitForViews(
        `every node sees node ${i} up again with a new generation`,
        cluster.indexes(),
        (v) => sees(cluster, v, cluster.indexes(), 'up') && generationOf(cluster, v, i)! > oldGeneration,
        DEADLINE.recover,
      );
      load.include(i);
      const opsDuring = ops() - opsBefore;
      await until(
        `${OPS_PER_STEP} operations after node ${i} is back`,
        () => ops() >= opsBefore + opsDuring + OPS_PER_STEP,
        DEADLINE.recover,
      );
      recordTiming(SUITE, `restart_node_${i}`, Date.now() - at, { ops_while_out: opsDuring });
      expect(opsDuring).toBeGreaterThan(0); // the load kept running while the node was out
      // Keys nobody writes any more still read back, with this node restarted and every earlier one.
      expect(firstOf(await readBack(cluster, pinned, cluster.indexes()))).toEqual({ count: 0, first: [] });
    }
    await load.stop();
    expect(firstOf(load.failures)).toEqual({ count: 0, first: [] });
    expect(firstOf(load.mismatches)).toEqual({ count: 0, first: [] });

    expect(load.okReads).toBeGreaterThan(0);
    expect(cluster.crashes()).toEqual([]);
  }, 400_000);
});
