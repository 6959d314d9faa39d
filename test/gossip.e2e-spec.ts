import 'reflect-metadata';
import { freePort } from './support/free-port.js';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ElasticaModule, GOSSIP_CHANNEL, GossipService, InMemoryGossipNetwork, type MembershipEvent } from 'elastica';

// Three real Nest apps gossiping over one in-memory hub (in place of the TCP transport): they find
// each other through a seed, share state, see a graceful leave as `left` and a silent stop as `down`.
const apps: INestApplication[] = [];


async function startNode(network: InMemoryGossipNetwork, port: number, seedPort: number) {
  // The channel's optional reset (a link to drop: its node was judged down), recorded.
  const resets: string[] = [];
  const channel = Object.assign(network.channel(`127.0.0.1:${port}`), { reset: (to: string) => void resets.push(to) });
  const moduleRef = await Test.createTestingModule({
    imports: [ElasticaModule.forRoot({
      bind: { host: '127.0.0.1', port },
      seeds: [`127.0.0.1:${seedPort}`],
      gossip: { intervalMs: 100, leaveTimeoutMs: 3000 },
      failureDetector: { firstHeartbeatEstimateMs: 100, acceptableHeartbeatPauseMs: 300, maxIntervalMs: 400, minStdDeviationMs: 50 },
    })],
  }).overrideProvider(GOSSIP_CHANNEL).useValue(channel).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  apps.push(app);
  const gossip = app.get(GossipService);
  const events: MembershipEvent[] = [];
  gossip.events$.subscribe((event) => events.push(event));
  return { app, gossip, events, resets, id: `127.0.0.1:${port}` };
}

type Node = Awaited<ReturnType<typeof startNode>>;

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('GossipService: three Nest apps', () => {
  it('converge, share state, see a leave as left and a silent stop as down', async () => {
    const network = new InMemoryGossipNetwork();
    const ports = [await freePort(), await freePort(), await freePort()];
    const nodes: Awaited<ReturnType<typeof startNode>>[] = [];
    for (const port of ports) nodes.push(await startNode(network, port, ports[0]!));
    const [a, b, c] = nodes as [Node, Node, Node];

    const statusOf = (observer: Node, id: string) => observer.gossip.member(id)?.status;
    await waitFor('all three up everywhere', () => nodes.every((o) => nodes.every((n) => n === o || statusOf(o, n.id) === 'up')));
    expect(a.gossip.members().map((m) => m.id).sort()).toEqual(nodes.map((n) => n.id).sort());

    a.gossip.set('color', 'blue');
    await waitFor('a set() seen by the others', () => b.gossip.get(a.id, 'color') === 'blue' && c.gossip.get(a.id, 'color') === 'blue');
    expect(b.gossip.member(a.id)!.state.color).toBe('blue');
    // The library's own keys (the ring's tokens) travel like any other.
    expect(b.gossip.get(a.id, 'elastica.tokens')).toBe(a.gossip.get(a.id, 'elastica.tokens'));

    await c.gossip.leave();
    await waitFor('c left for a and b', () => statusOf(a, c.id) === 'left' && statusOf(b, c.id) === 'left');
    expect(a.events).toContainEqual({ type: 'leaving', nodeId: c.id });
    expect(a.events).toContainEqual({ type: 'left', nodeId: c.id });
    await c.app.close();

    network.unplug(b.id);
    await b.app.close(); // no leave: a silent stop
    await waitFor('b down for a', () => statusOf(a, b.id) === 'down');
    expect(a.events).toContainEqual({ type: 'down', nodeId: b.id });
    // Its link is dropped (a stuck TCP connection would delay the heal of a partition), nobody else's.
    await waitFor('a to reset its link to b', () => a.resets.includes(b.id));
    expect(a.resets.filter((to) => to !== b.id)).toEqual([]);
    expect(statusOf(a, c.id)).toBe('left'); // a departed node is not convicted, and stays gone
  }, 60_000);
});
