import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { canonicalView, type KvCluster } from './harness/kv-cluster.js';
import { missingOn } from '../kv-store/support/local-copies.js';
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

// SIGKILL of a node under write load on the example app: no acknowledged write is lost; restarted,
// the node rejoins with a new generation and catches up: it holds its own copy of every acknowledged
// write it replicates.
const SUITE = 'sigkill';
const VICTIM = 3;
const WRITES_BEFORE = 300;
const WRITES_AFTER = 300;

describeChaos('chaos: SIGKILL under write load, then restart', () => {
  let cluster: KvCluster;
  let load: KvLoad;
  beforeAll(async () => {
    cluster = await startConvergedCluster({ suite: SUITE, suiteId: 5, nodes: 5 });
    // The kill must hit a working cluster, not one still choosing its tokens: otherwise the 503s of a
    // ring not yet formed ("no replica is known for this key yet") blur what the kill itself costs.
    await waitForRing(cluster);
  }, SETUP_TIMEOUT);
  afterAll(async () => {
    await load?.stop();
    await cluster?.destroy();
  }, 60_000);

  it('loses no acknowledged write when a node is killed mid-load', async () => {
    // Every write a new key, through any node; the victim takes its share until it dies.
    load = new KvLoad(cluster, { workers: 4, keysPerWorker: Infinity, pauseMs: 5, prefix: 'kill' });
    load.start();
    await until(`${WRITES_BEFORE} acknowledged writes`, () => load.ackedWrites >= WRITES_BEFORE, DEADLINE.converge);
    const oldGeneration = generationOf(cluster, await cluster.view(0), VICTIM)!;

    const killedAt = Date.now();
    await cluster.nodes[VICTIM].stop();
    await load.exclude(VICTIM); // its in-flight requests failed: never acknowledged, so never promised
    const ackedAtKill = load.ackedWrites;
    await until(
      `${WRITES_AFTER} more acknowledged writes with the victim dead`,
      () => load.ackedWrites >= ackedAtKill + WRITES_AFTER,
      DEADLINE.recover,
    );
    await cluster.waitForViews(
      'the survivors mark the victim down',
      others(cluster, VICTIM),
      (v) => sees(cluster, v, [VICTIM], 'down'),
      DEADLINE.detect,
    );
    // Recorded, not asserted (the issue asks that no acknowledged write be lost, below): survivors'
    // failures after the kill. Each key keeps 2 of its 3 replicas, a write quorum, so there should be none.
    const failures = load.failuresExcept([VICTIM]).filter((f) => f.at >= killedAt);
    const reasons = new Map<string, number>();
    for (const f of failures) {
      const reason = f.error.replace(/[0-9a-f]{8,}|kill-\S+/g, '…').slice(0, 160);
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    recordTiming(SUITE, 'kill_to_down_everywhere', Date.now() - killedAt, {
      acked: load.ackedWrites,
      failures_to_survivors_after_kill: failures.length,
      failure_reasons: Object.fromEntries([...reasons].sort((x, y) => y[1] - x[1]).slice(0, 5)),
      failures_ms_after_kill: failures.length > 0 ? [failures[0].at - killedAt, failures.at(-1)!.at - killedAt] : [],
    });
    await load.stop();

    const lost = await readBack(cluster, load.acked, others(cluster, VICTIM));
    expect(firstOf(lost)).toEqual({ count: 0, first: [] });
    expect(load.acked.size).toBeGreaterThanOrEqual(WRITES_BEFORE + WRITES_AFTER);

    // Restarted: it rejoins with a new generation, and everybody, itself included, agrees on the view.
    const restartedAt = Date.now();
    await cluster.startAgain(VICTIM);
    await cluster.waitForViews(
      'everyone sees the victim up with a new generation',
      cluster.indexes(),
      (v) => sees(cluster, v, cluster.indexes(), 'up') && generationOf(cluster, v, VICTIM)! > oldGeneration,
      DEADLINE.recover,
    );
    await until(
      'identical views on every node',
      async () =>
        new Set((await Promise.all(cluster.indexes().map((i) => cluster.view(i)))).map(canonicalView)).size === 1,
      DEADLINE.recover,
    );
    recordTiming(SUITE, 'restart_to_rejoined', Date.now() - restartedAt);
    // It catches up: it holds its own copy of every acknowledged write it replicates. Checked on the
    // node itself (GET /admin/local), not by reading through it: a quorum read through it is answered
    // by the other replicas (and would repair it), so it would pass with the node holding nothing.
    const victim = { url: cluster.url(VICTIM, ''), id: cluster.ids[VICTIM] };
    const caughtUp = await until(
      'the restarted node holds every acknowledged write it replicates',
      async () => {
        const { replicated, missing } = await missingOn(victim, load.acked);
        if (missing.length > 0)
          throw new Error(`${missing.length} of ${replicated} not yet, e.g. ${missing.slice(0, 3).join(', ')}`);
        return replicated > 0 && replicated;
      },
      DEADLINE.recover,
      1000,
    );
    recordTiming(SUITE, 'restart_to_caught_up', Date.now() - restartedAt, {
      replicated: caughtUp,
      acked: load.acked.size,
    });
    // With 3 replicas of each key on 5 nodes it replicates about 3/5 of them; a tenth rules out a ring
    // that gives it next to nothing (which would make the check above vacuous).
    expect(caughtUp).toBeGreaterThan(load.acked.size / 10);
    // And, through it, every acknowledged write reads back.
    expect(firstOf(await readBack(cluster, load.acked, [VICTIM]))).toEqual({ count: 0, first: [] });
    expect(cluster.crashes()).toEqual([]);
  }, 400_000);
});
