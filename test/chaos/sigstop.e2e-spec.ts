import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { KvCluster } from './harness/kv-cluster.js';
import { until } from '../support/until.js';
import { recordTiming } from './harness/artifacts.js';
import { describeChaos } from './harness/preflight.js';
import { DEADLINE, SETUP_TIMEOUT, generationOf, others, sees, startConvergedCluster } from './harness/scenario.js';

// SIGSTOP for longer than the detection time, then SIGCONT: the node is marked down, then up again,
// and it convicts nobody itself on waking. Its own detector saw nobody for as long as it was frozen;
// the local-pause guard must tell that silence was its own (Cassandra: a pause above 5 s).
const SUITE = 'sigstop';
const SLEEPER = 2;
/** Frozen at least this long, past the local-pause guard's default 5 s, even if detection is quicker. */
const MIN_FROZEN_MS = 8000;

describeChaos('chaos: SIGSTOP past the detection time, then SIGCONT', () => {
  let cluster: KvCluster;
  beforeAll(async () => {
    cluster = await startConvergedCluster({ suite: SUITE, suiteId: 6, nodes: 5 });
  }, SETUP_TIMEOUT);
  afterAll(async () => cluster?.destroy(), 60_000);

  it('is marked down, then up, and convicts nobody on waking', async () => {
    const rest = others(cluster, SLEEPER);
    const generation = generationOf(cluster, await cluster.view(0), SLEEPER);
    const stoppedAt = Date.now();
    cluster.nodes[SLEEPER].freeze();
    await cluster.waitForViews(
      'the others mark the frozen node down',
      rest,
      (v) => sees(cluster, v, [SLEEPER], 'down'),
      DEADLINE.detect,
    );
    const detectMs = Date.now() - stoppedAt;
    await until(
      'frozen past the local-pause guard',
      () => Date.now() - stoppedAt >= MIN_FROZEN_MS,
      MIN_FROZEN_MS + 1000,
      100,
    );

    // What the sleeper sees from the very moment it wakes: one request is queued while it is frozen
    // (answered before any gossip reaches it), then samples every 20 ms for 3 s, every 200 ms after.
    const convictions: string[] = [];
    let watching = true;
    let wokeAt = 0;
    const look = async () => {
      const own = await cluster.view(SLEEPER, 10_000);
      for (const i of rest) {
        const m = own.members.find((x) => x.id === cluster.ids[i]);
        if (m?.status !== 'up')
          convictions.push(`${m?.id ?? cluster.ids[i]}: ${m?.status} (phi ${m?.phi}) at +${Date.now() - wokeAt} ms`);
      }
    };
    const queued = look();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the request is in the frozen node's socket
    // For its first 2 s awake it hears from nobody (what the others sent while it slept is dropped
    // too): a detector without the guard would convict everyone at once, and visibly so. The guard
    // refuses for as long as the pause lasted (>= 8 s), so nobody may be convicted.
    for (const i of rest) cluster.oneWay(i, SLEEPER);
    cluster.nodes[SLEEPER].thaw();
    wokeAt = Date.now();
    const watcher = (async () => {
      while (watching) {
        await look().catch((error: Error) => convictions.push(`no answer: ${error.message}`));
        await new Promise((resolve) => setTimeout(resolve, Date.now() - wokeAt < 3000 ? 20 : 200));
      }
    })();
    await queued;
    await until('2 s of silence after waking', () => Date.now() - wokeAt >= 2000, 3000, 50);
    cluster.heal();
    // The others mark it up again; keep watching past the guard's own window (it refuses to convict
    // for 5 s more after a pause): 12 s from waking at least.
    let samplesAfterUp = 0;
    await until(
      'the others mark the sleeper up again',
      async () => {
        const views = await Promise.all(rest.map((i) => cluster.view(i)));
        if (views.every((v) => sees(cluster, v, [SLEEPER], 'up'))) samplesAfterUp += 1;
        return samplesAfterUp >= 10 && Date.now() - wokeAt >= 12_000;
      },
      DEADLINE.recover,
      200,
    );
    watching = false;
    await watcher;
    recordTiming(SUITE, 'stop_to_down_everywhere', detectMs);
    recordTiming(SUITE, 'cont_to_up_everywhere', Date.now() - wokeAt);
    expect({ count: convictions.length, first: convictions.slice(0, 10) }).toEqual({ count: 0, first: [] });
    // Not a restart: the same generation came back.
    expect(generationOf(cluster, await cluster.view(0), SLEEPER)).toBe(generation);
    expect(cluster.crashes()).toEqual([]);
  }, 300_000);
});
