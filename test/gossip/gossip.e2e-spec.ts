import 'reflect-metadata';
import { freePort } from '../support/free-port.js';
import { until } from '../support/until.js';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ElasticaModule, GossipService, type MembershipEvent, type StateChange } from 'elastica';
import { GOSSIP_CHANNEL, InMemoryGossipNetwork } from 'elastica/testing';

// Three real Nest apps gossiping over one in-memory hub (in place of the TCP transport): they find
// each other through a seed, share state, see a graceful leave as `left` and a silent stop as `down`.
const apps: INestApplication[] = [];

async function startNode(network: InMemoryGossipNetwork, port: number, seedPort: number) {
  // The channel's optional reset (a link to drop: its node was judged down), recorded.
  const resets: string[] = [];
  const channel = Object.assign(network.channel(`127.0.0.1:${port}`), { reset: (to: string) => void resets.push(to) });
  const moduleRef = await Test.createTestingModule({
    imports: [
      ElasticaModule.forRoot({
        bind: { host: '127.0.0.1', port },
        seeds: [`127.0.0.1:${seedPort}`],
        gossip: { intervalMs: 100, leaveTimeoutMs: 3000 },
        failureDetector: {
          firstHeartbeatEstimateMs: 100,
          acceptableHeartbeatPauseMs: 300,
          maxIntervalMs: 400,
          minStdDeviationMs: 50,
        },
      }),
    ],
  })
    .overrideProvider(GOSSIP_CHANNEL)
    .useValue(channel)
    .compile();
  const app = moduleRef.createNestApplication({ logger: false });
  // Subscribed before init: the partitioner publishes its join mark while the module starts.
  const gossip = app.get(GossipService);
  const events: MembershipEvent[] = [];
  const changes: StateChange[] = [];
  // Both streams in the order they came, to tell what a change followed.
  const timeline: (MembershipEvent | StateChange)[] = [];
  gossip.events$.subscribe((event) => {
    events.push(event);
    timeline.push(event);
  });
  gossip.changes$.subscribe((change) => {
    changes.push(change);
    timeline.push(change);
  });
  await app.init();
  apps.push(app);
  return { app, gossip, events, changes, timeline, resets, id: `127.0.0.1:${port}` };
}

type Node = Awaited<ReturnType<typeof startNode>>;

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

describe('GossipService: three Nest apps', () => {
  it('converge, share state, see a leave as left and a silent stop as down', async () => {
    const network = new InMemoryGossipNetwork();
    const ports = [await freePort(), await freePort(), await freePort()];
    const nodes: Awaited<ReturnType<typeof startNode>>[] = [];
    for (const port of ports) nodes.push(await startNode(network, port, ports[0]));
    const [a, b, c] = nodes as [Node, Node, Node];

    const statusOf = (observer: Node, id: string) => observer.gossip.member(id)?.status;
    await until(
      'all three up everywhere',
      () => nodes.every((o) => nodes.every((n) => n === o || statusOf(o, n.id) === 'up')),
      20_000,
      25,
    );
    expect(
      a.gossip
        .members()
        .map((m) => m.id)
        .sort(),
    ).toEqual(nodes.map((n) => n.id).sort());

    a.gossip.set('color', 'blue');
    await until(
      'a set() seen by the others',
      () => b.gossip.get(a.id, 'color') === 'blue' && c.gossip.get(a.id, 'color') === 'blue',
      20_000,
      25,
    );
    expect(b.gossip.member(a.id)!.state.color).toBe('blue');
    // The library's own keys (the ring's tokens) travel like any other.
    expect(b.gossip.get(a.id, 'elastica.tokens')).toBe(a.gossip.get(a.id, 'elastica.tokens'));

    await c.gossip.leave();
    await until('c left for a and b', () => statusOf(a, c.id) === 'left' && statusOf(b, c.id) === 'left', 20_000, 25);
    expect(a.events).toContainEqual({ type: 'leaving', nodeId: c.id });
    expect(a.events).toContainEqual({ type: 'left', nodeId: c.id });
    await c.app.close();

    network.unplug(b.id);
    await b.app.close(); // no leave: a silent stop
    await until('b down for a', () => statusOf(a, b.id) === 'down', 20_000, 25);
    expect(a.events).toContainEqual({ type: 'down', nodeId: b.id });
    // Its link is dropped (a stuck TCP connection would delay the heal of a partition), nobody else's.
    await until('a to reset its link to b', () => a.resets.includes(b.id), 20_000, 25);
    expect(a.resets.filter((to) => to !== b.id)).toEqual([]);
    expect(statusOf(a, c.id)).toBe('left'); // a departed node is not convicted, and stays gone

    // c comes back after leaving: a new generation, seen as a new member (`joined`), not as a restart.
    const before = a.events.length;
    const c2 = await startNode(network, ports[2], ports[0]);
    const c2Generation = c2.gossip.member(c2.id)!.generation;
    await until(
      'c back up for a',
      () => a.gossip.member(c.id)?.generation === c2Generation && statusOf(a, c.id) === 'up',
      20_000,
      25,
    );
    const since = a.events.slice(before).filter((e) => e.nodeId === c.id);
    expect(since[0]).toEqual({ type: 'joined', nodeId: c.id });
    expect(since).toContainEqual({ type: 'up', nodeId: c.id });
    expect(since.map((e) => e.type)).not.toContain('restarted');
  }, 60_000);

  it("changes$: the exact event on another node; a restart replays the new run's state key by key", async () => {
    const network = new InMemoryGossipNetwork();
    const ports = [await freePort(), await freePort()];
    const a = await startNode(network, ports[0], ports[0]);
    const b = await startNode(network, ports[1], ports[0]);
    await until(
      'a and b up for each other',
      () => a.gossip.member(b.id)?.status === 'up' && b.gossip.member(a.id)?.status === 'up',
      20_000,
      25,
    );

    a.gossip.set('color', 'blue');
    await until("b to see a's color", () => b.gossip.get(a.id, 'color') === 'blue', 20_000, 25);
    // a's own changes$ reports its local set; b's reports the same change, field for field.
    const local = a.changes.filter((ch) => ch.key === 'color');
    expect(local).toHaveLength(1);
    expect(local[0].version).toBeGreaterThan(0);
    expect(b.changes.filter((ch) => ch.nodeId === a.id && ch.key === 'color')).toEqual([
      { nodeId: a.id, key: 'color', value: 'blue', version: local[0].version },
    ]);
    expect(Object.keys(local[0]).sort()).toEqual(['key', 'nodeId', 'value', 'version']);

    // b restarts (same id, no leave): its new run holds 'color' with the same value, and no 'shape'.
    b.gossip.set('color', 'red');
    b.gossip.set('shape', 'square');
    const sameState = (observer: Node, owner: Node) =>
      JSON.stringify(observer.gossip.member(owner.id)?.state) === JSON.stringify(owner.gossip.member(owner.id)!.state);
    await until("a to hold b's whole state", () => sameState(a, b), 20_000, 25);
    await b.app.close();
    const b2 = await startNode(network, ports[1], ports[0]);
    const b2Generation = b2.gossip.member(b2.id)!.generation;
    b2.gossip.set('color', 'red');
    // Its ring tokens too (the partitioner sets them once the membership has settled): two keys replayed.
    await until(
      "a to hold b's new run whole",
      () =>
        a.gossip.member(b.id)?.generation === b2Generation &&
        b2.gossip.get(b2.id, 'elastica.tokens') !== undefined &&
        sameState(a, b2),
      20_000,
      25,
    );

    const restartedAt = a.timeline.findLastIndex((x) => 'type' in x && x.type === 'restarted' && x.nodeId === b.id);
    expect(restartedAt).toBeGreaterThanOrEqual(0);
    const replayed = a.timeline.slice(restartedAt + 1).filter((x): x is StateChange => 'key' in x && x.nodeId === b.id);
    // 'color' comes again although its value did not change: it is the new run's, with the new run's version.
    const colorVersion = b2.changes.find((ch) => ch.key === 'color')!.version;
    expect(replayed.filter((ch) => ch.key === 'color')).toEqual([
      { nodeId: b.id, key: 'color', value: 'red', version: colorVersion },
    ]);
    // 'shape' only the old run had: it vanishes from a's view with no event (gossip has no delete).
    expect(replayed.filter((ch) => ch.key === 'shape')).toEqual([]);
    expect(a.gossip.get(b.id, 'shape')).toBeUndefined();
    // One event per key of the new state (per version set, if the new run set a key more than once
    // before a caught up: never more than it set), the last one matching what a holds.
    const held = a.gossip.member(b.id)!.state;
    // The ring's keys ride along (its tokens, and the join mark every node publishes from its start), and the library version.
    expect(Object.keys(held).sort()).toEqual(['color', 'elastica.join', 'elastica.tokens', 'elastica.version']);
    expect(new Set(replayed.map((ch) => ch.key))).toEqual(new Set(Object.keys(held)));
    for (const [key, value] of Object.entries(held)) {
      const forKey = replayed.filter((ch) => ch.key === key);
      expect(forKey.length).toBeLessThanOrEqual(b2.changes.filter((ch) => ch.key === key).length);
      expect(forKey[forKey.length - 1].value).toBe(value);
      for (const ch of forKey) expect(b2.changes).toContainEqual(ch);
    }
  }, 30_000);
});
