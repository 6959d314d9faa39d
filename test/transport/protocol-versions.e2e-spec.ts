import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { GossipService } from 'elastica';
import { PROTOCOL_VERSION } from 'elastica/testing';
import { TestHandlers } from './handlers.js';
import { closeStartedNodes, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';

afterAll(closeStartedNodes);

/** A rolling upgrade in one process: nodes of this build beside nodes raised to a version it does not have. */
describe('protocol versions', () => {
  let old: TestNode;
  let raisedA: TestNode;
  let raisedB: TestNode;
  const gossip = { intervalMs: 100 };
  beforeAll(async () => {
    // "old" speaks only version 1 (the build before trace contexts); the raised ones up to a version
    // one above this build's (PROTOCOL_VERSION + 1).
    const oldest = { protocolVersions: { min: 1, max: 1 } };
    old = await startTrackedNode('old', { appVersion: '1.0.0', gossip, rpc: oldest }, [TestHandlers]);
    const raised = { gossip, rpc: { protocolVersions: { min: 1, max: PROTOCOL_VERSION + 1 } }, seeds: [old.address] };
    raisedA = await startTrackedNode('raised-a', { ...raised, appVersion: '1.1.0' }, [TestHandlers]);
    raisedB = await startTrackedNode('raised-b', { ...raised, appVersion: '1.1.0' }, [TestHandlers]);
    for (const node of [old, raisedA, raisedB])
      await until(
        `${node.id} sees all three up`,
        () =>
          node.app
            .get(GossipService)
            .members()
            .filter((m) => m.status === 'up').length === 3,
        20_000,
        50,
      );
  });

  it('every pair talks, each at the highest version both speak', async () => {
    for (const [from, to] of [
      [old, raisedA],
      [raisedA, old],
      [raisedA, raisedB],
      [raisedB, raisedA],
      [raisedB, old],
    ] as const) {
      expect(await firstValueFrom(from.client.send(to.id, 'echo', 'hi'))).toMatchObject({
        data: 'hi',
        sender: from.id,
      });
    }
    expect(old.transport.protocolOf('raised-a')).toBe(1);
    expect(raisedA.transport.protocolOf('old')).toBe(1);
    expect(raisedA.transport.protocolOf('raised-b')).toBe(PROTOCOL_VERSION + 1);
    expect(raisedB.transport.protocolOf('raised-a')).toBe(PROTOCOL_VERSION + 1);
    expect(raisedA.transport.connections().find((c) => c.nodeId === 'raised-b')?.protocol).toBe(PROTOCOL_VERSION + 1);
  });

  it('gossips each member library and application version', async () => {
    const seen = await until(
      'both application versions in the old node members()',
      () => {
        const members = old.app.get(GossipService).members();
        return members.length === 3 && members.every((m) => m.appVersion !== undefined) && members;
      },
      20_000,
      50,
    );
    const versions = Object.fromEntries(seen.map((m) => [m.id, [m.version, m.appVersion]]));
    expect(versions).toEqual({
      old: ['0.1.0', '1.0.0'],
      'raised-a': ['0.1.0', '1.1.0'],
      'raised-b': ['0.1.0', '1.1.0'],
    });
  });

  it('refuses a peer with no version in common, naming both ranges, and counts it', async () => {
    const future = await startTrackedNode('future', { rpc: { protocolVersions: { min: 2, max: 3 } } });
    const before = old.transport.stats().refused.protocol;
    await expect(future.transport.connect(old.address)).rejects.toThrow(
      /\(protocol\).*the peer speaks versions 2-3, this node speaks version 1/,
    );
    await until('the refusal counted', () => old.transport.stats().refused.protocol === before + 1, 10_000, 20);
    // The other way round, the dialer is the one that refuses.
    await expect(old.transport.connect(future.address)).rejects.toThrow(/protocol/);
  });
});
