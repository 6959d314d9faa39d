import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GossipService } from 'elastica';
import { AdminClient, type AdminStatus } from 'elastica/testing';
import { closeStartedNodes, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { always } from '../support/always.js';
import { until } from '../support/until.js';

afterAll(closeStartedNodes);

/** The admin role of the handshake (the `elastica` CLI's connection): authenticated like a peer, never a member. */
describe('admin clients', () => {
  const secret = 'admin-test-secret';
  const gossip = { intervalMs: 100 };
  let a: TestNode;
  let b: TestNode;

  beforeAll(async () => {
    a = await startTrackedNode('admin-a', { secret, cluster: 'ops', gossip });
    b = await startTrackedNode('admin-b', { secret, cluster: 'ops', gossip, seeds: [a.address] });
    await until(
      'a sees both up',
      () =>
        a.app
          .get(GossipService)
          .members()
          .filter((m) => m.status === 'up').length === 2,
      20_000,
      50,
    );
  });

  it('with the secret: answers status, and the client never becomes a member or a peer connection', async () => {
    const client = await AdminClient.connect({ node: a.address, cluster: 'ops', secret, id: 'operator' });
    try {
      const status = await client.request<AdminStatus>('status');
      expect(status.self).toBe('admin-a');
      expect(status.members.map((m) => m.id).sort()).toEqual(['admin-a', 'admin-b']);
      await expect(client.request('forget', { nodeId: 'admin-b' })).rejects.toThrow(/is up, not down/);
      expect(a.transport.connections().map((c) => c.nodeId)).toEqual(['admin-b']);
      // Over five gossip rounds, nothing of it spreads.
      await always('nobody lists the admin client as a member', { samples: 10, intervalMs: 50 }, () =>
        [a, b].every(
          (node) =>
            !node.app
              .get(GossipService)
              .members()
              .some((m) => m.id === 'operator'),
        )
          ? true
          : 'a node lists it',
      );
    } finally {
      client.close();
    }
  });

  it('without the secret, or of another cluster: refused at the handshake and counted', async () => {
    const before = a.transport.stats();
    await expect(AdminClient.connect({ node: a.address, cluster: 'ops', secret: 'wrong' })).rejects.toThrow(/secret/);
    await expect(AdminClient.connect({ node: a.address, cluster: 'ops' })).rejects.toThrow(/secret/);
    await expect(AdminClient.connect({ node: a.address, cluster: 'other', secret })).rejects.toThrow(/wrong cluster/);
    await until(
      'the refusals counted',
      () => {
        const after = a.transport.stats();
        // A wrong secret: the client finds the node's proof wrong and refuses it (a refusal by the peer, here).
        return (
          after.refusedByPeer.secret === (before.refusedByPeer.secret ?? 0) + 1 &&
          after.refused.secret === before.refused.secret + 1 &&
          after.refused.cluster === before.refused.cluster + 1
        );
      },
      10_000,
      20,
    );
  }, 20_000);
});
