import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KvCluster } from './harness/kv-cluster.js';
import { KvLoad, firstOf, readBack } from './harness/kv-load.js';
import { until } from '../support/until.js';
import { ARTIFACTS, recordTiming } from './harness/artifacts.js';
import { memberOf, statusOf } from './harness/kv-cluster.js';
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
import { PROTOCOL_VERSION } from '../../libs/elastica/src/transport/handshake.js';

// A rolling upgrade of every node under load: reads and writes keep succeeding throughout. One node
// at a time is taken out of the clients' rotation (as a load balancer would), stopped with SIGTERM (a
// graceful decommission: its data handed over, then it leaves, so the others see it `left`, never
// `down`), started again as the new release (another app version, speaking a newer wire protocol as
// well as the old one), and put back once every node sees it up with its new generation.
const SUITE = 'rolling-restart';
const OLD = ['--app-version', '1.0.0', '--drain-timeout-ms', '5000'];
// One above this build's own highest version: old and new nodes then speak different ranges.
const NEW = ['--app-version', '2.0.0', '--drain-timeout-ms', '5000', '--protocol-max', String(PROTOCOL_VERSION + 1)];
/** SIGKILL after this long: a stop that needs it would be seen `down`, and fail the test. */
const STOP_GRACE_MS = 30_000;
const OPS_PER_STEP = 100;
/** Written once before the roll and never again, read back after each node's restart. */
const PINNED_KEYS = 100;

describeChaos('chaos: a rolling restart of every node under load', () => {
  let cluster: KvCluster;
  let load: KvLoad;
  beforeAll(async () => {
    cluster = await startConvergedCluster({ suite: SUITE, suiteId: 7, nodes: 5, extraArgs: OLD });
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
      const failuresBefore = load.failures.length;
      // What the others say of node i from its SIGTERM until it is back: `leaving`, `left`, never `down`.
      const seen = new Set<string>();
      let watching = true;
      const watcher = (async () => {
        while (watching) {
          for (const o of others(cluster, i)) {
            const view = await cluster.view(o).catch(() => undefined);
            const member = view && memberOf(view, cluster.ids[i]);
            if (member && member.generation === oldGeneration) seen.add(member.status);
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const exit = await cluster.nodes[i].terminate(STOP_GRACE_MS);
      const stopMs = Date.now() - at;
      cluster.nodes[i].spec.argv.push(...NEW);
      await cluster.startAgain(i);
      await cluster.waitForViews(
        `every node sees node ${i} up again with a new generation`,
        cluster.indexes(),
        (v) => sees(cluster, v, cluster.indexes(), 'up') && generationOf(cluster, v, i)! > oldGeneration,
        DEADLINE.recover,
      );
      watching = false;
      await watcher;
      expect(exit?.signal ?? exit?.code).not.toBe('SIGKILL');
      expect(seen.has('down')).toBe(false);
      expect(seen.has('left')).toBe(true);
      load.include(i);
      const opsDuring = ops() - opsBefore;
      await until(
        `${OPS_PER_STEP} operations after node ${i} is back`,
        () => ops() >= opsBefore + opsDuring + OPS_PER_STEP,
        DEADLINE.recover,
      );
      // The node's own account of its decommission: how long the drain took, and the whole stop.
      const log = readFileSync(join(ARTIFACTS, SUITE, `node-${i}.log`), 'utf8');
      const drained = [...log.matchAll(/left the cluster: drained in (\d+) ms, (\d+) ms in all/g)].at(-1);
      recordTiming(SUITE, `sigterm_node_${i}`, stopMs, {
        drain_ms: drained ? Number(drained[1]) : null,
        decommission_ms: drained ? Number(drained[2]) : null,
        failed_requests: load.failures.length - failuresBefore,
        statuses_seen: [...seen],
      });
      recordTiming(SUITE, `restart_node_${i}`, Date.now() - at, { ops_while_out: opsDuring });
      expect(opsDuring).toBeGreaterThan(0); // the load kept running while the node was out
      // Keys nobody writes any more still read back, with this node restarted and every earlier one.
      expect(firstOf(await readBack(cluster, pinned, cluster.indexes()))).toEqual({ count: 0, first: [] });
      if (i === 0 || i === 2) {
        // Mid-upgrade: one (then three) node(s) of the new release among the old, every one up for
        // every other, and GET /cluster (the dashboard's source) shows both versions, at every node.
        for (const o of cluster.indexes()) {
          const view = await cluster.view(o);
          const versions = new Set(
            cluster.indexes().map((n) => (memberOf(view, cluster.ids[n]) as { appVersion?: string })?.appVersion),
          );
          expect(versions).toEqual(new Set(['1.0.0', '2.0.0']));
          expect(cluster.indexes().every((n) => statusOf(view, cluster.ids[n]) === 'up')).toBe(true);
        }
      }
    }
    await load.stop();
    expect(firstOf(load.failures)).toEqual({ count: 0, first: [] });
    expect(firstOf(load.mismatches)).toEqual({ count: 0, first: [] });

    expect(load.okReads).toBeGreaterThan(0);
    expect(cluster.crashes()).toEqual([]);
  }, 400_000);
});
