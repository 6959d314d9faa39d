import { jest } from '@jest/globals';
import { GossipService } from 'elastica';
import type { Item } from 'elastica/testing';
import { TestHandlers } from '../transport/handlers.js';
import { startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';

/**
 * What the hostile-gossip suites share: three members of one cluster (node-evil holds the secret like
 * the others, so the transport lets it in) and the ways the tests look into a node's gossip.
 */
export const opts = { cluster: 'c', secret: 's', gossip: { intervalMs: 100 } };

/** node-a (the seed), node-b and node-evil, started and up in node-a's view and node-b up in node-evil's. */
export async function startHostileGossipCluster(): Promise<{ a: TestNode; b: TestNode; evil: TestNode }> {
  const a = await startTrackedNode('node-a', { ...opts, seeds: [] }, [TestHandlers]);
  const b = await startTrackedNode('node-b', { ...opts, seeds: [a.address] }, [TestHandlers]);
  const evil = await startTrackedNode('node-evil', { ...opts, seeds: [a.address] }, [TestHandlers]);
  await until(
    'node-a to see all three up',
    () =>
      a.app
        .get(GossipService)
        .members()
        .filter((m) => m.status === 'up').length === 3,
    15_000,
    50,
  );
  await until(
    'node-evil to see node-b up',
    () => evil.app.get(GossipService).member('node-b')?.status === 'up',
    15_000,
    50,
  );
  return { a, b, evil };
}

export const gossipOf = (node: TestNode): GossipService => node.app.get(GossipService);

/** Node-b's announced heartbeat, at `version`. */
export const heartbeatItem = (version: number): Item => ({ version, key: undefined, status: 'up' });

/** Logged warnings of `node`'s gossip service (the apps run with logging off; the calls still happen). */
export function spyWarnings(node: TestNode): () => string[] {
  const logger = (gossipOf(node) as unknown as { logger: { warn(message: string): void } }).logger;
  const spy = jest.spyOn(logger, 'warn');
  return () => spy.mock.calls.map((call) => String(call[0]));
}
