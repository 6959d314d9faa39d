import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { DEFAULT_RPC } from '../options/defaults.js';
import { ConnectionRegistry } from './connection-registry.js';
import type { Peer } from './peer.js';

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

  const addresses = (): string[] => registry.stats().peers.map((p) => p.address).sort();

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
});
