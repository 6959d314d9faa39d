import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import { GossipService, PartitionerService, TOKENS_KEY } from 'elastica';
import { closeStartedNodes, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';

// Three real Nest apps gossiping over TCP on loopback, as users run them: they agree on every key's
// owner, one leaves, the other two agree again.

const KEYS = Array.from({ length: 2000 }, (_, i) => `order:${i}`);
const partitioner = (n: TestNode) => n.app.get(PartitionerService);

function agreeOnEveryKey(nodes: TestNode[]): boolean {
  try {
    if (new Set(nodes.map((n) => partitioner(n).checksum)).size !== 1) return false;
    const owners = Object.entries(partitioner(nodes[0]).ownership())
      .filter(([, share]) => share > 0)
      .map(([id]) => id);
    if (
      owners.sort().join() !==
      nodes
        .map((n) => n.id)
        .sort()
        .join()
    )
      return false;
    return KEYS.every((key) => {
      const owner = partitioner(nodes[0]).getNode(key);
      return nodes.every((n) => partitioner(n).getNode(key) === owner);
    });
  } catch {
    return false; // a ring not ready yet
  }
}

afterAll(closeStartedNodes);

describe('PartitionerService on live gossip membership (three Nest apps over TCP)', () => {
  it("agrees on every key's owner, and again after one node leaves", async () => {
    const opts = { cluster: 'ring-e2e', gossip: { intervalMs: 100 } };
    const first = await startTrackedNode('ring-1', opts);
    const nodes = [
      first,
      await startTrackedNode('ring-2', { ...opts, seeds: [first.address] }),
      await startTrackedNode('ring-3', { ...opts, seeds: [first.address] }),
    ];
    await until('the three to agree on every key', () => agreeOnEveryKey(nodes), 30_000, 50);
    // Agreed before their tokens are final (every node computes the joiners' parts); the leave below
    // is of a settled ring, where only the leaver's ranges move.
    // whenReady() is each node's own tokens; every node must also have everyone's published tokens.
    // Until then it still plans the others' parts as a cohort, and the leave would re-plan what stays.
    await Promise.all(nodes.map((n) => partitioner(n).whenReady()));
    await until(
      "every node to hold every node's published tokens, and to agree on every key",
      () =>
        nodes.every((n) => nodes.every((m) => n.app.get(GossipService).get(m.id, TOKENS_KEY) !== undefined)) &&
        agreeOnEveryKey(nodes),
      30_000,
      50,
    );
    for (const share of Object.values(partitioner(nodes[0]).ownership())) expect(share).toBeGreaterThan(0.25);
    for (const key of KEYS.slice(0, 200)) {
      expect(nodes.filter((n) => partitioner(n).isLocal(key))).toHaveLength(1);
      expect(new Set(partitioner(nodes[1]).getReplicas(key)).size).toBe(3);
    }

    // The seed itself leaves: the other two must carry on without it.
    const [leaver, ...rest] = nodes as [TestNode, ...TestNode[]];
    const movedAway: string[] = [];
    const sub = partitioner(rest[0]).ring$.subscribe((change) => {
      for (const m of change.moved) if (m.from === leaver.id) movedAway.push(m.to ?? 'nobody');
    });
    const leaverRanges = partitioner(rest[0]).getRanges(leaver.id).length;
    await leaver.app.get(GossipService).leave();
    await leaver.close();
    await until(
      'the two left to agree on every key and see the leaver left',
      () =>
        agreeOnEveryKey(rest) &&
        rest.every(
          (n) =>
            n.app
              .get(GossipService)
              .members()
              .find((m) => m.id === leaver.id)?.status === 'left',
        ),
      30_000,
      50,
    );
    sub.unsubscribe();
    // The leaver's ranges, and only those, went to the two that stay.
    expect(movedAway.length).toBeGreaterThanOrEqual(1);
    expect(movedAway.length).toBeLessThanOrEqual(leaverRanges);
    expect(movedAway.every((to) => rest.some((n) => n.id === to))).toBe(true);
    expect(Object.values(partitioner(rest[0]).ownership()).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
  }, 90_000);
});
