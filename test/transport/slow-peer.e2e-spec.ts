import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { QueueFullError } from 'elastica';
import { GOSSIP_CHANNEL, type GossipChannel } from 'elastica/testing';
import { TestHandlers } from './handlers.js';
import { freePort } from '../support/free-port.js';
import { closeStartedNodes, startTrackedNode } from '../support/elastica-node.js';
import { failsAtOnce } from './fails-at-once.js';
import { until } from '../support/until.js';
import { RawPeer } from './raw-peer.js';

afterAll(closeStartedNodes);

describe('a peer that completes the handshake and then stops reading', () => {
  it('fills only its own bounded queue: sends to it fail at once with QueueFullError, and a healthy peer keeps flowing', async () => {
    const maxQueueBytes = 256 * 1024;
    const a = await startTrackedNode('slow-a', { rpc: { maxQueueBytes } }, [TestHandlers]);
    const c = await startTrackedNode('slow-c', {}, [TestHandlers]);
    await c.transport.connect(a.address);
    const slowAddress = `127.0.0.1:${await freePort()}`;
    const slow = await RawPeer.member(a.port, {
      cluster: 'elastica',
      nodeId: 'slow-raw',
      generation: Date.now(),
      advertise: slowAddress,
    });
    slow.socket.pause(); // reads nothing more: the kernel's buffers fill, then A's queue for it

    const payload = 'x'.repeat(32 * 1024);
    let full: unknown;
    let sent = 0;
    // Until the kernel's buffers are full the bytes leave; then they wait on A, up to the bound.
    while (full === undefined && sent < 8192) {
      for (let i = 0; i < 32 && full === undefined; i++, sent++)
        full = failsAtOnce(a.client.emit('slow-raw', 'note', payload));
      await new Promise((resolve) => setImmediate(resolve)); // lets the socket hand what it can to the kernel
    }
    expect(full).toBeInstanceOf(QueueFullError);
    expect((full as Error).message).toMatch(/outbound queue to slow-raw .* is full .*rpc\.maxQueueBytes 262144/);
    const queued = () => a.transport.stats().peers.find((p) => p.nodeId === 'slow-raw')!.bufferedBytes;
    expect(queued()).toBeLessThanOrEqual(maxQueueBytes);
    expect(queued()).toBeGreaterThan(maxQueueBytes - payload.length - 64);

    // A request fails during subscribe (nothing queued, no timeout to wait for); gossip is dropped and counted.
    expect(failsAtOnce(a.client.send('slow-raw', 'echo', payload, { timeoutMs: 0 }))).toBeInstanceOf(QueueFullError);
    const dropped = a.transport.stats().gossipDropped;
    a.app.get<GossipChannel>(GOSSIP_CHANNEL).send(slowAddress, new Uint8Array(payload.length));
    expect(a.transport.stats().gossipDropped).toBe(dropped + 1);

    // Meanwhile the healthy peer is served both ways, calls and gossip, on its own connection.
    const gossipAtC: number[] = [];
    c.app.get<GossipChannel>(GOSSIP_CHANNEL).onMessage((from, bytes) => {
      if (from === a.address) gossipAtC.push(bytes[0]);
    });
    for (let i = 0; i < 10; i++) a.app.get<GossipChannel>(GOSSIP_CHANNEL).send(c.address, Uint8Array.of(i));
    expect(await firstValueFrom(a.client.send('slow-c', 'echo', 'still here'))).toEqual({
      data: 'still here',
      sender: 'slow-a',
      pattern: 'echo',
    });
    expect(await firstValueFrom(c.client.send('slow-a', { cmd: 'double' }, 21))).toBe(42);
    await until('the ten gossip messages at slow-c', () => gossipAtC.length === 10, 10_000, 20);
    expect(gossipAtC).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // ...while the slow one's queue is still full.
    expect(queued()).toBeGreaterThan(maxQueueBytes - payload.length - 64);
    expect(slow.closed).toBe(false);
    slow.destroy();
  }, 60_000);
});
