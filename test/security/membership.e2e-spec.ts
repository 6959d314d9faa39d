import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import { GossipService } from 'elastica';
import { TestHandlers } from '../transport/handlers.js';
import { closeStartedNodes, eventually, startTrackedNode } from '../transport/nodes.js';

/**
 * Peers with the wrong secret or cluster name never become members. They list the guarded node as a
 * seed and keep trying; the guarded node never holds a connection with them, counts each refusal,
 * and its membership never lists them.
 */

const node = startTrackedNode;
afterAll(closeStartedNodes);

const fast = { gossip: { intervalMs: 100 }, rpc: { reconnectMinMs: 20, reconnectMaxMs: 100 } };

describe('who becomes a member', () => {
  it('a peer with the right cluster and secret does; one with the wrong secret, none, or another cluster never does', async () => {
    const guarded = await node('guarded', { cluster: 'orders', secret: 'right', ...fast }, [TestHandlers]);
    const seeds = [guarded.address];
    const friend = await node('friend', { cluster: 'orders', secret: 'right', seeds, ...fast }, [TestHandlers]);
    const outsiders = [
      await node('wrong-secret', { cluster: 'orders', secret: 'wrong', seeds, ...fast }),
      await node('no-secret', { cluster: 'orders', seeds, ...fast }),
      await node('other-cluster', { cluster: 'billing', secret: 'right', seeds, ...fast }),
    ];
    // they all try (gossip dials its seeds; dialling here too makes the test independent of gossip's schedule)
    expect(await friend.transport.connect(guarded.address)).toBe('guarded');
    for (const o of outsiders) await expect(o.transport.connect(guarded.address)).rejects.toThrow(/refused/);
    const ids = new Set(outsiders.map((o) => o.id));

    await eventually(() => guarded.transport.stats().refused.secret + (guarded.transport.stats().refusedByPeer.secret ?? 0) >= 2
      && guarded.transport.stats().refused.cluster >= 1);
    // a while of gossip rounds later, still: no connection, no membership
    const until = Date.now() + 1000;
    await eventually(() => {
      for (const n of [guarded, friend]) {
        expect(n.transport.connections().some((c) => ids.has(c.nodeId))).toBe(false);
        expect(n.app.get(GossipService).members().some((m) => ids.has(m.id))).toBe(false);
      }
      for (const o of outsiders) {
        expect(o.transport.connections()).toEqual([]);
        expect(o.app.get(GossipService).members().map((m) => m.id)).toEqual([o.id]);
      }
      return Date.now() > until;
    }, 5000, 100);
    expect(guarded.transport.connections().map((c) => c.nodeId)).toEqual(['friend']);
  });
});
