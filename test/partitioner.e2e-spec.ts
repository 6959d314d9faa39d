import 'reflect-metadata';
import { freePort } from './support/free-port.js';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { ElasticaModule, GOSSIP_CHANNEL, GossipService, InMemoryGossipNetwork, PartitionerService } from 'elastica';

// Three real Nest apps on one in-memory gossip network (in place of the TCP channel): they agree on
// every key's owner, one leaves, the other two agree again.

const KEYS = Array.from({ length: 2000 }, (_, i) => `order:${i}`);
const apps: TestingModule[] = [];


async function startNode(network: InMemoryGossipNetwork, port: number, seed: number) {
  const moduleRef = await Test.createTestingModule({
    imports: [ElasticaModule.forRoot({ bind: { host: '127.0.0.1', port }, seeds: [`127.0.0.1:${seed}`], gossip: { intervalMs: 50 } })],
  }).overrideProvider(GOSSIP_CHANNEL).useValue(network.channel(`127.0.0.1:${port}`)).compile();
  await moduleRef.init();
  apps.push(moduleRef);
  return { moduleRef, id: `127.0.0.1:${port}`, partitioner: moduleRef.get(PartitionerService), gossip: moduleRef.get(GossipService) };
}

type Node = Awaited<ReturnType<typeof startNode>>;

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function agreeOnEveryKey(nodes: { partitioner: PartitionerService }[], owners: string[]): boolean {
  try {
    if (new Set(nodes.map((n) => n.partitioner.checksum)).size !== 1) return false;
    if (Object.keys(nodes[0]!.partitioner.ownership()).sort().join() !== [...owners].sort().join()) return false;
    return KEYS.every((key) => {
      const owner = nodes[0]!.partitioner.getNode(key);
      return nodes.every((n) => n.partitioner.getNode(key) === owner);
    });
  } catch {
    return false; // a ring not ready yet
  }
}

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describe('PartitionerService on live gossip membership (three Nest apps)', () => {
  it('agrees on every key\'s owner, and again after one node leaves', async () => {
    const network = new InMemoryGossipNetwork();
    const ports = [await freePort(), await freePort(), await freePort()];
    const nodes: Node[] = [];
    for (const port of ports) nodes.push(await startNode(network, port, ports[0]!));
    const ids = nodes.map((n) => n.id);
    await waitFor('three nodes agreeing on every key', () => agreeOnEveryKey(nodes, ids));
    for (const share of Object.values(nodes[0]!.partitioner.ownership())) expect(share).toBeGreaterThan(0.25);
    for (const key of KEYS.slice(0, 200)) {
      expect(nodes.filter((n) => n.partitioner.isLocal(key))).toHaveLength(1);
      expect(new Set(nodes[1]!.partitioner.getReplicas(key)).size).toBe(3);
    }

    const [leaver, ...rest] = nodes as [Node, ...Node[]];
    const movedAway: string[] = [];
    const sub = rest[0]!.partitioner.ring$.subscribe((change) => {
      for (const m of change.moved) if (m.from === leaver.id) movedAway.push(m.to ?? 'nobody');
    });
    const leaverRanges = rest[0]!.partitioner.getRanges(leaver.id).length;
    await leaver.gossip.leave();
    await leaver.moduleRef.close();
    apps.splice(apps.indexOf(leaver.moduleRef), 1);
    await waitFor('the other two agreeing without the leaver', () => agreeOnEveryKey(rest, rest.map((n) => n.id)));
    sub.unsubscribe();
    // The leaver's ranges, and only those, went to the two that stay.
    expect(movedAway.length).toBeGreaterThanOrEqual(1);
    expect(movedAway.length).toBeLessThanOrEqual(leaverRanges);
    expect(movedAway.every((to) => rest.some((n) => n.id === to))).toBe(true);
    expect(Object.values(rest[0]!.partitioner.ownership()).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  });
});
