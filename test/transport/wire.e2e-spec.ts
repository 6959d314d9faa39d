import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { NodeUnavailableError } from 'elastica';
import { GOSSIP_CHANNEL, type GossipChannel } from 'elastica/testing';
import { TestHandlers } from './handlers.js';
import { closeStartedNodes, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';
import { RawPeer } from './raw-peer.js';

const node = startTrackedNode;
afterAll(closeStartedNodes);

describe('handshake refusals', () => {
  let guarded: TestNode;
  beforeAll(async () => {
    guarded = await node('guarded', { cluster: 'orders', secret: 'correct horse' }, [TestHandlers]);
  });

  it('refuses a peer of another cluster, telling it why, and counts it', async () => {
    const stranger = await node('stranger', { cluster: 'billing', secret: 'correct horse' });
    const error = await stranger.transport.connect(guarded.address).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeUnavailableError);
    expect((error as Error).message).toMatch(/refused by peer \(cluster\).*wrong cluster "billing"/);
    expect(guarded.transport.stats().refused.cluster).toBeGreaterThanOrEqual(1);
    expect(stranger.transport.stats().refusedByPeer.cluster).toBe(1);
  });

  it('refuses a peer with the wrong secret, or none, and accepts the right one', async () => {
    // The acceptor proves itself first, so the dialer with the wrong secret is the one to notice and refuse.
    const wrong = await node('wrong-secret', { cluster: 'orders', secret: 'battery staple' });
    await expect(wrong.transport.connect(guarded.address)).rejects.toThrow(/\(secret\).*could not prove/);
    expect(wrong.transport.stats().refused.secret).toBe(1);
    await until(
      'the refusal counted at the guarded node',
      () => guarded.transport.stats().refusedByPeer.secret === 1,
      10_000,
      20,
    );
    const none = await node('no-secret', { cluster: 'orders' });
    await expect(none.transport.connect(guarded.address)).rejects.toThrow(/\(secret\).*a secret is required/);
    expect(guarded.transport.stats().refused.secret).toBeGreaterThanOrEqual(1);

    const friend = await node('friend', { cluster: 'orders', secret: 'correct horse' });
    expect(await friend.transport.connect(guarded.address)).toBe('guarded');
    expect(await firstValueFrom(friend.client.send('guarded', 'echo', 1))).toEqual({
      data: 1,
      sender: 'friend',
      pattern: 'echo',
    });
  });

  it('refuses a peer speaking another protocol version with a REFUSE frame saying so', async () => {
    const before = guarded.transport.stats().refused.protocol;
    const raw = await RawPeer.open(guarded.port);
    raw.hello(99, { cluster: 'orders' });
    await until('the raw connection closed', () => raw.closed, 10_000, 20);
    expect(raw.frames).toEqual([
      expect.objectContaining({ reason: 'protocol', message: expect.stringMatching(/version 99/) }),
    ]);
    expect(guarded.transport.stats().refused.protocol).toBe(before + 1);
  });
});

describe('the wire', () => {
  let a: TestNode;
  let b: TestNode;
  beforeAll(async () => {
    a = await node('wire-a', { rpc: { handshakeTimeoutMs: 300, maxFrameBytes: 64 * 1024 } }, [TestHandlers]);
    b = await node('wire-b', {}, [TestHandlers]);
    await b.transport.connect(a.address);
  });
  const stillServes = async () =>
    expect(await firstValueFrom(b.client.send('wire-a', 'echo', 'ok'))).toEqual({
      data: 'ok',
      sender: 'wire-b',
      pattern: 'echo',
    });

  it('carries gossip bytes both ways, naming the sender by its advertised address', async () => {
    const gotByA: [string, number[]][] = [];
    a.app.get<GossipChannel>(GOSSIP_CHANNEL).onMessage((from, bytes) => gotByA.push([from, [...bytes]]));
    b.app.get<GossipChannel>(GOSSIP_CHANNEL).send(a.address, new Uint8Array([7, 8, 9]));
    await until('the message received by a', () => gotByA.length === 1, 10_000, 20);
    expect(gotByA[0]).toEqual([b.address, [7, 8, 9]]);
    expect(a.transport.connections()).toHaveLength(1);
  });

  it('closes only the connection that sent malformed bytes, and says why', async () => {
    const before = a.transport.stats().refused.bad_frame;
    const raw = await RawPeer.open(a.port);
    raw.write(Buffer.from([0, 0, 0, 5, 99, 1, 2, 3, 4]));
    await until('the raw connection closed', () => raw.closed, 10_000, 20);
    expect(raw.frames[0]).toEqual(
      expect.objectContaining({ reason: 'bad_frame', message: expect.stringMatching(/unknown frame type 99/) }),
    );
    expect(a.transport.stats().refused.bad_frame).toBe(before + 1);
    await stillServes();
  });

  it('refuses an oversized frame from its length prefix alone', async () => {
    const before = a.transport.stats().refused.oversized;
    const raw = await RawPeer.open(a.port);
    raw.write(Buffer.from([0x7f, 0xff, 0xff, 0xff])); // 2 GiB announced, not one byte of it sent
    await until('the raw connection closed', () => raw.closed, 10_000, 20);
    expect(raw.frames[0]).toEqual(expect.objectContaining({ reason: 'oversized' }));
    expect(a.transport.stats().refused.oversized).toBe(before + 1);
    await stillServes();
  });

  it('closes a connection that never completes its handshake', async () => {
    const before = a.transport.stats().refused.handshake_timeout;
    const raw = await RawPeer.open(a.port);
    await until('the raw connection closed', () => raw.closed, 5000, 20);
    expect(a.transport.stats().refused.handshake_timeout).toBe(before + 1);
    await stillServes();
  });
});

describe('one connection per pair', () => {
  it('keeps the same single connection on both sides when two nodes dial each other at once', async () => {
    for (let round = 0; round < 3; round++) {
      const x = await node(`sim-x-${round}`, {}, [TestHandlers]);
      const y = await node(`sim-y-${round}`, {}, [TestHandlers]);
      const [fromX, fromY] = await Promise.all([x.transport.connect(y.address), y.transport.connect(x.address)]);
      expect([fromX, fromY]).toEqual([y.id, x.id]);
      // the tie-break ran: x (the smaller id) turned y's dial away, keeping its own
      expect(x.transport.stats().refused.duplicate).toBe(1);
      await until(
        'one connection at each end',
        () => x.transport.connections().length === 1 && y.transport.connections().length === 1,
        10_000,
        20,
      );
      const [cx] = x.transport.connections();
      const [cy] = y.transport.connections();
      // the same socket seen from both ends, dialled by the smaller id
      expect(cx.localPort).toBe(cy.remotePort);
      expect(cx.remotePort).toBe(cy.localPort);
      expect(cx.direction).toBe('outbound');
      expect(await firstValueFrom(x.client.send(y.id, 'echo', 1))).toEqual({ data: 1, sender: x.id, pattern: 'echo' });
      expect(await firstValueFrom(y.client.send(x.id, 'echo', 2))).toEqual({ data: 2, sender: y.id, pattern: 'echo' });
      expect(x.transport.connections()).toHaveLength(1);
      await x.close();
      await y.close();
    }
  });

  it('reconnects after a peer restarts on the same address, and sees its new generation', async () => {
    const a = await node('restart-a', { rpc: { reconnectMinMs: 20, reconnectMaxMs: 200 } }, [TestHandlers]);
    const b = await node('restart-b', {}, [TestHandlers]);
    await a.transport.connect(b.address);
    const firstGeneration = a.transport.connections()[0].generation;
    await b.close();
    // while it is down, calls fail fast with a typed error
    await until(
      'calls to restart-b to fail as unavailable',
      async () =>
        (await firstValueFrom(a.client.send('restart-b', 'echo', 0)).catch((e: unknown) => e)) instanceof
        NodeUnavailableError,
      10_000,
      20,
    );
    // a restart has a later generation (start time)
    await until('the clock past the first generation', () => Date.now() > firstGeneration, 10_000, 20);
    await node('restart-b', {}, [TestHandlers], { port: b.port });
    const reply = await until(
      'an answer from the restarted restart-b',
      () => firstValueFrom(a.client.send('restart-b', 'echo', 'back')),
      10_000,
      50,
    );
    expect(reply).toEqual({ data: 'back', sender: 'restart-a', pattern: 'echo' });
    expect(a.transport.connections()).toHaveLength(1);
    expect(a.transport.connections()[0].generation).toBeGreaterThan(firstGeneration);
  });
});
