import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { DEFAULT_RPC } from '../options/defaults.js';
import { ConnectionRegistry } from './connection-registry.js';
import type { Peer } from './peer.js';
import { createServer, type AddressInfo } from 'node:net';

/**
 * The registry's bookkeeping of peers it cannot reach, on fake timers. Dials never touch the network:
 * each one fails 10 ms later as a refused connection would.
 */
describe('ConnectionRegistry: entries of unreachable peers', () => {
  let registry: ConnectionRegistry;
  let dials: string[];

  beforeEach(() => {
    jest.useFakeTimers();
    dials = [];
    registry = new ConnectionRegistry(
      { cluster: 'c', nodeId: 'a', generation: 1, advertise: '10.0.0.1:7000' },
      DEFAULT_RPC,
      { gossip: () => undefined, request: () => undefined, event: () => undefined },
      { log: () => undefined, warn: () => undefined, debug: () => undefined },
      () => 0.5,
    );
    const internals = registry as unknown as { dial(peer: Peer): void; dialFailed(peer: Peer, reason: string): void };
    internals.dial = (peer) => {
      dials.push(peer.address);
      peer.connecting = {} as Peer['connecting'];
      setTimeout(() => {
        peer.connecting = undefined;
        internals.dialFailed(peer, 'connect ECONNREFUSED');
      }, 10);
    };
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  const addresses = (): string[] =>
    registry
      .stats()
      .peers.map((p) => p.address)
      .sort();

  it('forgets an address nobody sends to any more, and keeps retrying one still in use', () => {
    const gossip = new Uint8Array([1, 2, 3]);
    for (let i = 0; i < 100; i++) registry.sendGossip(`10.9.0.${i}:7000`, gossip); // e.g. nodes a hostile peer invented
    registry.sendGossip('10.0.0.2:7000', gossip);
    expect(addresses()).toHaveLength(101);

    // The real peer is still gossiped to every 10 s; the invented ones never again.
    for (let t = 0; t < 90; t += 10) {
      jest.advanceTimersByTime(10_000);
      registry.sendGossip('10.0.0.2:7000', gossip);
    }
    expect(addresses()).toEqual(['10.0.0.2:7000']);
    // While in use it was redialled on its own, with backoff; the others only until they went idle.
    expect(dials.filter((d) => d === '10.0.0.2:7000').length).toBeGreaterThan(9);
    const dialsOfInvented = dials.filter((d) => d.startsWith('10.9.')).length;
    jest.advanceTimersByTime(120_000);
    expect(dials.filter((d) => d.startsWith('10.9.')).length).toBe(dialsOfInvented);

    // A later send makes a new entry and dials again, as for any address.
    registry.sendGossip('10.9.0.7:7000', gossip);
    expect(addresses()).toContain('10.9.0.7:7000');
    expect(dials.at(-1)).toBe('10.9.0.7:7000');
  });

  it('keeps a bounded number of addresses found to be its own', () => {
    // A node bound to 0.0.0.0 answers at every local address; gossip naming ever new ones must not grow the table.
    const internals = registry as unknown as { peerFor(address: string): Peer; markSelf(peer: Peer): void };
    for (let i = 0; i < 200; i++) internals.markSelf(internals.peerFor(`127.0.${i >> 8}.${i & 255}:7000`));
    expect(addresses().length).toBeLessThanOrEqual(64);
    expect(registry.stats().selfAddresses.length).toBeLessThanOrEqual(8);
    // The newest are still known as its own: a send to one stops at once, without a dial.
    registry.sendGossip('127.0.0.199:7000', new Uint8Array([1]));
    expect(dials).toEqual([]);
  });

  it('redials the other unreachable peers early once one of them is reachable again (a healed partition)', () => {
    const gossip = new Uint8Array([1]);
    const across = ['10.0.1.1:7000', '10.0.1.2:7000', '10.0.1.3:7000', '10.0.1.4:7000'];
    // A minute of outage, gossip still probing now and then: every backoff has grown to its ceiling.
    for (let t = 0; t < 60; t += 5) {
      for (const address of across) registry.sendGossip(address, gossip);
      jest.advanceTimersByTime(5_000);
    }
    const internals = registry as unknown as { peerFor(address: string): Peer; established(conn: unknown): void };
    const waits = () => across.slice(1).map((a) => internals.peerFor(a).retryAt - Date.now());
    expect(Math.min(...waits())).toBeGreaterThan(1_000);

    // A dial to another one left while the link was cut and still waits on its SYN.
    const stuck = internals.peerFor('10.0.1.5:7000');
    let aborted = '';
    stuck.lastUsed = Date.now();
    stuck.connecting = {
      direction: 'outbound',
      socket: { connecting: true },
      destroy: (why: string) => {
        aborted = why;
        stuck.connecting = undefined;
        (registry as unknown as { dialFailed(peer: Peer, reason: string): void }).dialFailed(stuck, why);
      },
    } as unknown as Peer['connecting'];
    stuck.failures = 5;

    // The first link across comes back (as if its redial connected).
    const first = internals.peerFor(across[0]);
    first.connecting = undefined;
    internals.established({
      owner: first,
      direction: 'outbound',
      write: () => undefined,
      remoteHello: { nodeId: 'b1', generation: 1, advertise: across[0] },
    });
    expect(registry.isConnected('b1')).toBe(true);
    // The others are redialled within 2 x reconnectMinMs, not at the end of their grown backoffs; the
    // stuck dial is aborted and made again as soon.
    for (const wait of waits()) expect(wait).toBeLessThanOrEqual(2 * DEFAULT_RPC.reconnectMinMs);
    expect(aborted).toMatch(/network is back/);
    expect(stuck.retryAt - Date.now()).toBeLessThanOrEqual(2 * DEFAULT_RPC.reconnectMinMs);
    const before = dials.length;
    jest.advanceTimersByTime(2 * DEFAULT_RPC.reconnectMinMs);
    expect(dials.slice(before).sort()).toEqual([...across.slice(1), '10.0.1.5:7000']);

    // Those redials failed (the fake network refuses them): back to grown backoffs, and no second
    // sweep within RECOVERY_SWEEP_MS, however often some peer comes back.
    for (const wait of waits()) expect(wait).toBeGreaterThan(1_000);
    const second = internals.peerFor('10.0.1.9:7000');
    second.failures = 3;
    internals.established({
      owner: second,
      direction: 'outbound',
      write: () => undefined,
      remoteHello: { nodeId: 'b9', generation: 1, advertise: '10.0.1.9:7000' },
    });
    for (const wait of waits()) expect(wait).toBeGreaterThan(1_000);
  });
});

/**
 * Two nodes dialling each other at once, each under an address the other has not learned yet (both
 * listen on 0.0.0.0, advertise 127.0.0.1:P, and are seeded as 127.0.0.2:P): on real loopback TCP.
 */
describe('ConnectionRegistry: crossing dials under unlearned spellings', () => {
  const freePort = () =>
    new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
  /** Polls; the deadline is generous and only ends a failing wait. */
  const eventually = async (check: () => boolean, ms = 5000) => {
    const until = Date.now() + ms;
    while (!check()) {
      if (Date.now() > until) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  async function node(id: string, secret: string | undefined, got: number[]) {
    const port = await freePort();
    const registry = new ConnectionRegistry(
      { cluster: 'c', nodeId: id, generation: 1, advertise: `127.0.0.1:${port}`, ...(secret ? { secret } : {}) },
      DEFAULT_RPC,
      { gossip: (_from, bytes) => got.push(bytes[0]), request: () => undefined, event: () => undefined },
      { log: () => undefined, warn: () => undefined, debug: () => undefined },
    );
    await registry.listen({ host: '0.0.0.0', port });
    return { registry, port };
  }

  it.each([
    ['without a secret', undefined],
    ['with a secret', 'correct horse'],
  ])(
    'keeps one connection, the one the smaller id dialled, %s: none lost or replaced, every frame delivered',
    async (_, secret) => {
      for (let round = 0; round < 3; round++) {
        const gotA: number[] = [];
        const gotB: number[] = [];
        const a = await node('a', secret, gotA);
        const b = await node('b', secret, gotB);
        try {
          // Both dial in the same tick, each under the spelling the other does not advertise.
          a.registry.sendGossip(`127.0.0.2:${b.port}`, Uint8Array.of(1));
          b.registry.sendGossip(`127.0.0.2:${a.port}`, Uint8Array.of(1));
          await eventually(() => gotA.length === 1 && gotB.length === 1);
          // Then under both spellings, paced so later frames meet whatever the handshakes left.
          for (let i = 10; i < 20; i++) {
            const spelling = i % 2 === 0 ? '127.0.0.1' : '127.0.0.2';
            a.registry.sendGossip(`${spelling}:${b.port}`, Uint8Array.of(i));
            b.registry.sendGossip(`${spelling}:${a.port}`, Uint8Array.of(i));
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          const expected = [1, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
          await eventually(() => gotA.length >= expected.length && gotB.length >= expected.length);
          expect(gotA).toEqual(expected);
          expect(gotB).toEqual(expected);

          for (const [self, other] of [
            [a, b],
            [b, a],
          ] as const) {
            const stats = self.registry.stats();
            expect(stats.connections).toBe(1);
            expect(stats.connectionsLost).toBe(0);
            expect(stats.connectionsReplaced).toBe(0);
            expect(stats.gossipDropped).toBe(0);
            // One entry, known by both spellings.
            expect(stats.peers).toHaveLength(1);
            expect([stats.peers[0].address, ...stats.peers[0].aliases].sort()).toEqual([
              `127.0.0.1:${other.port}`,
              `127.0.0.2:${other.port}`,
            ]);
          }
          // The same socket seen from both ends, dialled by the smaller id.
          const [fromA] = a.registry.connections();
          const [fromB] = b.registry.connections();
          expect(fromA.direction).toBe('outbound');
          expect(fromB.direction).toBe('inbound');
          expect([fromA.localPort, fromA.remotePort]).toEqual([fromB.remotePort, fromB.localPort]);
        } finally {
          await a.registry.close();
          await b.registry.close();
        }
      }
    },
  );
});
