import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { httpRequest, getJson } from './harness/http.js';
import { KvCluster } from './harness/kv-cluster.js';
import { NetnsLab } from './harness/netns-lab.js';
import { describeChaos } from './harness/preflight.js';
import { sh } from './harness/shell.js';
import { until } from '../support/until.js';

// The harness tested on itself, with a stand-in for the example app (test/chaos/harness/stand-in-node.mjs):
// every fault the scenarios rely on is shown to do exactly what it says, on real namespaces.
const SUITE_ID = 1;
const UDP_PORT = 9000;
const DATAGRAMS = 2000;

interface WhoAmI {
  id: string;
  pid: number;
  bound: { address: string; port: number };
  addresses: string[];
}
interface Probe {
  ok: boolean;
  error?: string;
}

describeChaos('chaos harness (stand-in nodes)', () => {
  let cluster: KvCluster;

  beforeAll(async () => {
    cluster = await KvCluster.start({
      suite: 'harness',
      suiteId: SUITE_ID,
      nodes: 4,
      entry: 'test/chaos/harness/stand-in-node.mjs',
      extraArgs: ['--udp', String(UDP_PORT)],
    });
  }, 60_000);
  afterAll(async () => cluster?.destroy(), 60_000);

  const whoami = (i: number) => getJson<WhoAmI>(cluster.url(i, '/whoami'));
  /** Can node `from` open a TCP connection to node `to` and get an HTTP answer? */
  const reach = async (from: number, to: number) =>
    (
      await getJson<Probe>(
        cluster.url(from, `/probe?timeoutMs=1000&url=${encodeURIComponent(cluster.url(to, '/whoami'))}`),
        5000,
      )
    ).ok;
  /** Node `from` sends DATAGRAMS UDP datagrams to node `to`: how many arrive? */
  const datagrams = async (from: number, to: number) => {
    const before = (await getJson<{ received: number }>(cluster.url(to, '/udp-count'))).received;
    await httpRequest(
      'POST',
      cluster.url(from, `/udp-send?count=${DATAGRAMS}&to=${cluster.lab.address(to)}:${UDP_PORT}`),
      { timeoutMs: 30_000 },
    );
    return settledCount(to, before);
  };
  /** Reads node `to`'s datagram counter until it stops moving. */
  const settledCount = async (to: number, before: number) => {
    let last = -1;
    const value = await until(
      'the datagram count settles',
      async () => {
        const now = (await getJson<{ received: number }>(cluster.url(to, '/udp-count'))).received;
        const settled = now === last ? now : undefined;
        last = now;
        return settled;
      },
      10_000,
      200,
    );
    return value - before;
  };

  it('gives each node its own namespace address, bound on 0.0.0.0 and reached from the root namespace', async () => {
    const all = await Promise.all(cluster.indexes().map(whoami));
    for (const i of cluster.indexes()) {
      expect(all[i].bound.address).toBe('0.0.0.0');
      expect(all[i].addresses).toEqual([cluster.lab.address(i)]);
      expect(cluster.ids[i]).toBe(`${cluster.lab.address(i)}:7000`); // the advertised address, not 0.0.0.0
    }
    expect(new Set(all.map((w) => w.pid)).size).toBe(4);
    for (const from of cluster.indexes()) for (const to of cluster.indexes()) expect(await reach(from, to)).toBe(true);
  }, 60_000);

  it('partitions two groups both ways, keeps each side whole, leaves the root namespace out, and heals', async () => {
    cluster.partition([0, 1], [2, 3]);
    expect(await reach(0, 1)).toBe(true);
    expect(await reach(2, 3)).toBe(true);
    expect(await reach(0, 2)).toBe(false);
    expect(await reach(3, 1)).toBe(false);
    expect(await datagrams(2, 0)).toBe(0);
    for (const i of cluster.indexes()) await whoami(i); // the observer still sees everyone
    cluster.heal();
    expect(await reach(0, 2)).toBe(true);
    expect(await reach(3, 1)).toBe(true);
  }, 60_000);

  it('cuts one direction only: datagrams flow the other way, TCP fails both ways (its handshake needs both)', async () => {
    cluster.oneWay(0, 1);
    expect(await datagrams(0, 1)).toBe(0);
    expect(await datagrams(1, 0)).toBeGreaterThanOrEqual(DATAGRAMS * 0.99);
    expect(await reach(0, 1)).toBe(false);
    expect(await reach(1, 0)).toBe(false);
    expect(await reach(0, 2)).toBe(true);
    expect(cluster.lab.rules(1)).toContain(`ip saddr ${cluster.lab.address(0)} drop`);
    cluster.heal();
    expect(await reach(0, 1)).toBe(true);
  }, 60_000);

  it('drops about the asked share of packets on every node-to-node link, none from the root namespace', async () => {
    cluster.loss(10);
    const delivered = await datagrams(2, 3);
    // Binomial: 2000 tries at 90% has a standard deviation of 0.7%; these bounds are ten of those away.
    expect(delivered / DATAGRAMS).toBeGreaterThan(0.83);
    expect(delivered / DATAGRAMS).toBeLessThan(0.97);
    const fromRoot = await rootDatagrams(3);
    expect(fromRoot).toBeGreaterThanOrEqual(DATAGRAMS * 0.99);
    cluster.heal();
    expect(await datagrams(2, 3)).toBeGreaterThanOrEqual(DATAGRAMS * 0.99);
  }, 60_000);

  it('stops, continues, kills and restarts a node', async () => {
    const node = cluster.nodes[2];
    const pid = node.pid;
    node.freeze();
    await expect(httpRequest('GET', cluster.url(2, '/whoami'), { timeoutMs: 1000 })).rejects.toThrow(/no answer/);
    node.thaw();
    expect((await whoami(2)).pid).toBe(pid);

    const killedPid = cluster.nodes[3].pid;
    const exit = await cluster.nodes[3].stop();
    expect(exit?.signal).toBe('SIGKILL');
    await expect(httpRequest('GET', cluster.url(3, '/whoami'), { timeoutMs: 1000 })).rejects.toThrow();
    await cluster.startAgain(3);
    expect((await whoami(3)).pid).not.toBe(killedPid);
    await cluster.restart(1);
    expect((await cluster.view(1)).self).toBe(cluster.ids[1]);
    expect(cluster.crashes()).toEqual([]);
  }, 60_000);

  it('removes what a crashed run left behind, and everything on destroy', () => {
    const leftover = NetnsLab.create(SUITE_ID + 8, 2); // as if a run died here without cleaning up
    const again = NetnsLab.create(SUITE_ID + 8, 2);
    again.destroy();
    const prefix = leftover.names.prefix;
    expect(
      sh('ip', ['netns', 'list'])
        .split('\n')
        .filter((l) => l.startsWith(prefix)),
    ).toEqual([]);
    expect(sh('ip', ['-o', 'link', 'show']).includes(prefix)).toBe(false);
  }, 60_000);

  /** Sends DATAGRAMS datagrams from this (root) namespace to node `to`: how many arrive? */
  async function rootDatagrams(to: number): Promise<number> {
    const before = (await getJson<{ received: number }>(cluster.url(to, '/udp-count'))).received;
    const socket = createSocket('udp4');
    for (let i = 0; i < DATAGRAMS; i++) {
      await new Promise((resolve) => socket.send(Buffer.from(`r${i}`), UDP_PORT, cluster.lab.address(to), resolve));
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 1));
    }
    socket.close();
    return settledCount(to, before);
  }
});
