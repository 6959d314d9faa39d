import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Subscription } from 'rxjs';
import { GossipService } from 'elastica';
import { TestHandlers } from '../transport/handlers.js';
import { closeStartedNodes, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { always } from '../support/always.js';
import { until } from '../support/until.js';

/**
 * Peers with the wrong secret or cluster name never become members. They list the guarded node as a
 * seed and keep trying; the guarded node never holds a connection with them, counts each refusal,
 * and its membership never lists them, not even for a moment (watched through the membership events
 * as well as looked at: a poll that waits for "not a member" would let a brief membership pass).
 */

const node = startTrackedNode;
const subscriptions: Subscription[] = [];
afterAll(async () => {
  for (const s of subscriptions.splice(0)) s.unsubscribe();
  await closeStartedNodes();
});

/** Connections the node refused, or was refused on, for a wrong secret or cluster. */
function outsiderRefusals(n: TestNode): number {
  const { refused, refusedByPeer } = n.transport.stats();
  return refused.secret + refused.cluster + (refusedByPeer.secret ?? 0) + (refusedByPeer.cluster ?? 0);
}

const fast = { gossip: { intervalMs: 100 }, rpc: { reconnectMinMs: 20, reconnectMaxMs: 100 } };

describe('who becomes a member', () => {
  it('a peer with the right cluster and secret does; one with the wrong secret, none, or another cluster never does', async () => {
    const guarded = await node('guarded', { cluster: 'orders', secret: 'right', ...fast }, [TestHandlers]);
    const seeds = [guarded.address];
    const friend = await node('friend', { cluster: 'orders', secret: 'right', seeds, ...fast }, [TestHandlers]);
    const ids = new Set(['wrong-secret', 'no-secret', 'other-cluster']);
    // Every membership event, from before the outsiders exist: an outsider listed even for a moment
    // emits `joined` (gossip announces every new member), which a poll could miss between two looks.
    const violations: string[] = [];
    const watch = (observer: TestNode, isViolation: (nodeId: string) => boolean): void => {
      subscriptions.push(
        observer.app.get(GossipService).events$.subscribe((e) => {
          if (isViolation(e.nodeId)) violations.push(`${observer.id} saw ${e.nodeId} ${e.type}`);
        }),
      );
    };
    for (const n of [guarded, friend]) watch(n, (id) => ids.has(id));
    const outsiders: TestNode[] = [];
    for (const [id, options] of [
      ['wrong-secret', { cluster: 'orders', secret: 'wrong' }],
      ['no-secret', { cluster: 'orders' }],
      ['other-cluster', { cluster: 'billing', secret: 'right' }],
    ] as const) {
      const o = await node(id, { ...options, seeds, ...fast });
      watch(o, (other) => other !== o.id);
      outsiders.push(o);
    }
    expect(outsiders.map((o) => o.id).sort()).toEqual([...ids].sort());
    // they all try (gossip dials its seeds; dialling here too makes the test independent of gossip's schedule)
    expect(await friend.transport.connect(guarded.address)).toBe('guarded');
    for (const o of outsiders) await expect(o.transport.connect(guarded.address)).rejects.toThrow(/refused/);

    await until(
      'the outsiders refused: two by secret, one by cluster',
      () =>
        guarded.transport.stats().refused.secret + (guarded.transport.stats().refusedByPeer.secret ?? 0) >= 2 &&
        guarded.transport.stats().refused.cluster >= 1,
      10_000,
      20,
    );
    // Fifteen gossip rounds (and seed retries) more, looked at every 20 ms and watched through the
    // events throughout: the first time an outsider is connected or a member anywhere, the test fails.
    const refusalsBefore = outsiderRefusals(guarded);
    await always('no outsider is ever connected or a member', { samples: 75, intervalMs: 20 }, () => {
      if (violations.length > 0) return violations.join('; ');
      for (const n of [guarded, friend]) {
        const connected = n.transport.connections().filter((c) => ids.has(c.nodeId));
        if (connected.length > 0) return `${n.id} is connected with ${connected.map((c) => c.nodeId).join(', ')}`;
        const members = n.app
          .get(GossipService)
          .members()
          .filter((m) => ids.has(m.id));
        if (members.length > 0) return `${n.id} lists ${members.map((m) => `${m.id} (${m.status})`).join(', ')}`;
      }
      for (const o of outsiders) {
        if (o.transport.connections().length > 0)
          return `${o.id} is connected with ${o.transport
            .connections()
            .map((c) => c.nodeId)
            .join(', ')}`;
        const members = o.app
          .get(GossipService)
          .members()
          .map((m) => m.id);
        if (members.length !== 1 || members[0] !== o.id) return `${o.id} lists ${members.join(', ')}`;
      }
      return true;
    });
    // The outsiders kept trying during the window (their seed is the guarded node), so the window
    // watched real attempts, not an idle cluster.
    expect(outsiderRefusals(guarded)).toBeGreaterThan(refusalsBefore);
    expect(violations).toEqual([]);
    expect(guarded.transport.connections().map((c) => c.nodeId)).toEqual(['friend']);
  });
});
