import { afterAll, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt } from '../support/build.js';
import { until } from '../support/until.js';
import { ARTIFACTS, recordTiming } from './harness/artifacts.js';
import { KvCluster, type ClusterView } from './harness/kv-cluster.js';
import { NetnsDns } from './harness/netns-dns.js';
import { describeChaos } from './harness/preflight.js';
import { DEADLINE, sees } from './harness/scenario.js';

// Nodes whose only seed is one DNS name (as a headless Service's), each namespace's resolver listing
// its own address first: the case that made five one-node clusters (issue 15). dnsmasq is the DNS server.
const SUITE = 'dns-seeds';
const NAME = 'seeds.elastica.test';
const SEED = `dns:${NAME}:7000`;
/**
 * Cold starts of five nodes in CI: the issue asks for five (ten locally before resolving:
 * ELASTICA_DNS_RUNS=10). The last of them is the one with the DNS server down at the start (its own
 * test, below); the others answer from the start. Kept to five in all for the CI budget.
 */
const COLD_STARTS = Number(process.env.ELASTICA_DNS_RUNS ?? 5);
const RUNS = COLD_STARTS - 1;

let cluster: KvCluster | undefined;
let dns: NetnsDns | undefined;

async function tearDown(): Promise<void> {
  await cluster?.destroy();
  await dns?.destroy();
  cluster = undefined;
  dns = undefined;
}

/** Starts `nodes` namespaces' worth of lab, the first `startFirst` nodes running, all seeded by the name. */
async function start(
  run: string,
  nodes: number,
  startFirst: number,
  dnsUp: boolean,
  records: number[],
  seedList = SEED,
): Promise<KvCluster> {
  cluster = await KvCluster.start({ suite: `${SUITE}-${run}`, suiteId: 8, nodes, startFirst, seedList }, (lab) => {
    dns = new NetnsDns(lab, NAME, `${SUITE}-${run}`);
    dns.setRecords(records);
    if (dnsUp) dns.start();
  });
  return cluster;
}

/** Every running node sees every running node up: one cluster (a split shows as nodes missing from views). */
async function oneCluster(c: KvCluster, running: number[], what: string): Promise<ClusterView[]> {
  const { views } = await c.waitForViews(what, running, (view) => sees(c, view, running, 'up'), DEADLINE.converge);
  return views;
}

function logOf(run: string, i: number): string {
  return readFileSync(join(ARTIFACTS, `${SUITE}-${run}`, `node-${i}.log`), 'utf8');
}

const count = (text: string, pattern: RegExp) => text.split('\n').filter((line) => pattern.test(line)).length;

describeChaos('chaos: seeds from one DNS name (dnsmasq in every namespace)', () => {
  afterAll(tearDown, 60_000);

  it(`five nodes started together, each resolver answering its own address first, form one cluster (${RUNS} runs, and one more below)`, async () => {
    ensureBuilt();
    const all = [0, 1, 2, 3, 4];
    const times: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const started = Date.now();
      // The last run's lab has a sixth namespace, not started: the next test adds it through the name.
      const c = await start(`run-${run}`, run === RUNS ? 6 : 5, 5, true, all);
      const serving = Date.now();
      await oneCluster(c, all, `run ${run}: every node sees all five up`);
      times.push(Date.now() - started);
      // From spawning the processes, and from the moment every node answered HTTP (Node and Nest started).
      recordTiming(SUITE, 'start_to_one_cluster', times.at(-1)!, {
        run,
        nodes: 5,
        serving_to_one_cluster_ms: Date.now() - serving,
      });
      // Exactly one node founded the cluster: the one with the lowest address; the others joined it.
      const founders = all.filter((i) => count(logOf(`run-${run}`, i), /founding a new cluster/) > 0);
      expect(founders).toEqual([0]);
      for (const i of all) expect(count(logOf(`run-${run}`, i), /is this node's own address/)).toBe(0);
      if (run < RUNS) await tearDown();
    }
    recordTiming(SUITE, 'start_to_one_cluster_summary', Math.max(...times), { runs: RUNS, all_ms: times });
  }, 600_000);

  it('a record added for a new node: it joins through the name; a record removed: nothing breaks', async () => {
    // The last run's cluster: five nodes up, a sixth namespace with no node yet and no record.
    const c = cluster!;
    const run = `run-${RUNS}`;
    dns!.setRecords([0, 1, 2, 3, 4, 5]);
    const added = Date.now();
    await c.startAgain(5);
    const all = [0, 1, 2, 3, 4, 5];
    await oneCluster(c, all, 'the sixth node joined through the name');
    recordTiming(SUITE, 'added_record_to_joined', Date.now() - added);
    expect(count(logOf(run, 5), /founding a new cluster/)).toBe(0);
    // Node 0's record goes (it is still running): nobody drops it, and a node restarted now still joins.
    dns!.setRecords([1, 2, 3, 4, 5]);
    await c.restart(3, 'kill');
    await oneCluster(c, all, 'all six up after a record was removed and a node restarted');
    const put = await c.put(3, 'after-removal', 'ok');
    expect(put.status).toBe(204);
    await tearDown();
  }, 300_000);

  it('the DNS server down at start (the last cold start, seeded by SRV records): the nodes wait, say so once, and form one cluster when it is back', async () => {
    const all = [0, 1, 2, 3, 4];
    const c = await start('dns-down', 5, 5, false, all, `srv:_elastica._tcp.${NAME}`);
    // Every node has tried and said why; a few more retries later, still only once.
    await until(
      'every node logged the failed lookup',
      () => all.every((i) => count(logOf('dns-down', i), /could not be looked up/) >= 1),
      DEADLINE.converge,
    );
    const views = await Promise.all(all.map((i) => c.view(i)));
    for (const view of views) expect(view.members.map((m) => m.status)).toEqual(['joining']);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // retries happen meanwhile (1 s, 2 s, ...)
    for (const i of all) expect(count(logOf('dns-down', i), /could not be looked up/)).toBe(1);
    const back = Date.now();
    dns!.start();
    await oneCluster(c, all, 'one cluster once the DNS server is back');
    recordTiming(SUITE, 'dns_back_to_one_cluster', Date.now() - back, { nodes: 5 });
    const founders = all.filter((i) => count(logOf('dns-down', i), /founding a new cluster/) > 0);
    expect(founders).toEqual([0]);
    for (const i of all) expect(count(logOf('dns-down', i), /resolves again/)).toBe(1);
    await tearDown();
  }, 300_000);
});
