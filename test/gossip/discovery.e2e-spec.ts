import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import { GossipService, PartitionerService, type SeedProvider } from 'elastica';
import { freePort } from '../support/free-port.js';
import { closeStartedNodes, startTrackedNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';

afterAll(closeStartedNodes);

const gossip = { intervalMs: 100, seedRetryMinMs: 100, seedRetryMaxMs: 400 };

/** A provider the test controls, as an application's own registry would be. */
class ListProvider implements SeedProvider {
  calls = 0;
  constructor(public addresses: string[]) {}
  resolve(): Promise<string[]> {
    this.calls++;
    return Promise.resolve(this.addresses);
  }
}

describe('seeds from a SeedProvider, through the Nest module', () => {
  it('a lone node (requiredContacts 1) founds its cluster and builds its ring', async () => {
    const port = await freePort();
    const provider = new ListProvider([`127.0.0.1:${port}`]);
    const n = await startTrackedNode(
      'lone',
      { seeds: [provider], gossip, bootstrap: { requiredContacts: 1, stableMarginMs: 200 } },
      [],
      { port },
    );
    const members = n.app.get(GossipService);
    await until('the lone node up', () => members.member('lone')?.status === 'up', 10_000, 20);
    await n.app.get(PartitionerService).whenReady();
    expect(n.app.get(PartitionerService).getNode('k')).toBe('lone');
    expect(provider.calls).toBeGreaterThanOrEqual(1);
  });

  it('three nodes listed by one provider form one cluster; a fourth, listed later, joins it', async () => {
    const ports = [await freePort(), await freePort(), await freePort(), await freePort()];
    const provider = new ListProvider(ports.slice(0, 3).map((p) => `127.0.0.1:${p}`));
    const options = { seeds: [provider], gossip, bootstrap: { requiredContacts: 3, stableMarginMs: 300 } };
    const nodes = await Promise.all([0, 1, 2].map((i) => startTrackedNode(`p${i}`, options, [], { port: ports[i] })));
    const upEverywhere = (ids: string[]) =>
      nodes.every((n) => ids.every((id) => n.app.get(GossipService).member(id)?.status === 'up'));
    await until('one cluster of three', () => upEverywhere(['p0', 'p1', 'p2']), 20_000, 20);
    provider.addresses = ports.map((p) => `127.0.0.1:${p}`);
    const late = await startTrackedNode('p3', options, [], { port: ports[3] });
    nodes.push(late);
    await until('the fourth joined', () => upEverywhere(['p0', 'p1', 'p2', 'p3']), 20_000, 20);
  });
});
