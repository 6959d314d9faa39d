import { describe, expect, it } from '@jest/globals';
import { SeededRandom } from '../common/random.js';
import { DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP } from '../options/defaults.js';
import { GossipNode } from './gossip-node.js';
import { PeerLiveness } from './peer-liveness.js';
import { cluster, T0 } from './testing/gossip-cluster.js';
import { decodeMessage, encodeMessage } from './wire/codec.js';
import { incarnationRef } from './wire/incarnation.js';

describe('GossipNode (Scuttlebutt invariants, property-based)', () => {
  it('marks a node learned third-hand up only once it is heard from itself', () => {
    const [a, b, c] = cluster(3, 512);
    let now = T0 + 10;
    // One full exchange x -> y (syn, ack, ack2); x's messages to anyone else are lost.
    const exchange = (x: GossipNode, y: GossipNode): void => {
      for (const syn of x.tick((now += 10))) {
        if (syn.to !== y.address) continue;
        for (const ack of y.receive(x.address, syn.bytes, now))
          for (const ack2 of x.receive(y.address, ack.bytes, now)) y.receive(x.address, ack2.bytes, now);
      }
    };
    // a and b know each other directly; c only ever hears of b through a.
    for (let i = 0; i < 3; i++) {
      exchange(a, b);
      exchange(b, a);
    }
    for (let i = 0; i < 3; i++) {
      exchange(a, c);
      exchange(c, a);
    }
    expect(c.member(b.id)?.generation).toBe(b.generation);
    expect(c.statusOf(b.id)).toBe('down');
    expect(c.statusOf(a.id)).toBe('up');
    // c asks b directly; once b answers, b is up.
    const ping = c.tick((now += 10)).find((o) => o.to === b.address);
    expect(ping && decodeMessage(ping.bytes).type).toBe('ping');
    for (const pong of b.receive(c.address, ping!.bytes, now)) c.receive(b.address, pong.bytes, now);
    expect(c.statusOf(b.id)).toBe('up');
  });

  it('pings a node learned third-hand at once, with the replies to the message that named it', () => {
    const [a, b, c] = cluster(3, 4096);
    let now = T0 + 10;
    // b's first exchange with its seed a, delivered whole (syn, ack, ack2).
    for (const syn of b.tick((now += 10)))
      for (const ack of a.receive(b.address, syn.bytes, now))
        for (const ack2 of b.receive(a.address, ack.bytes, now)) a.receive(b.address, ack2.bytes, now);
    expect(a.statusOf(b.id)).toBe('up');
    // c's first exchange with a: a's ack names b, so c's answer to it carries a ping to b.
    const syn = c.tick((now += 10)).find((o) => o.to === a.address)!;
    const ack = a.receive(c.address, syn.bytes, now).find((o) => o.to === c.address)!;
    const out = c.receive(a.address, ack.bytes, now);
    expect(c.statusOf(b.id)).toBe('down');
    const ping = out.find((o) => o.to === b.address);
    expect(ping && decodeMessage(ping.bytes).type).toBe('ping');
    for (const pong of b.receive(c.address, ping!.bytes, now)) c.receive(b.address, pong.bytes, now);
    expect(c.statusOf(b.id)).toBe('up');
  });

  it('feeds relayed heartbeats to the detector even when a direct message brought a newer one', () => {
    const livenessA = new PeerLiveness(DEFAULT_FAILURE_DETECTOR);
    const options = { ...DEFAULT_GOSSIP, mtuBytes: 4096 };
    const a = new GossipNode({
      id: 'a',
      address: 'a:1',
      generation: T0,
      seeds: [],
      options,
      random: new SeededRandom(1),
      liveness: livenessA,
    });
    const cRef = incarnationRef('c', T0 + 2);
    const c = { id: 'c', address: 'c:1', generation: T0 + 2 };
    let now = T0 + 1000;
    const relay = (heartbeat: number): void => {
      const header = { senderRef: incarnationRef('b', T0 + 1), senderHeartbeat: 1, receiverRef: 0, receiverVersion: 0 };
      a.receive(
        'b:1',
        encodeMessage({
          type: 'ack2',
          header,
          deltas: [{ ref: cRef, identity: c, items: [{ version: heartbeat, key: undefined, status: 'up' }] }],
        }),
        now,
      );
    };
    relay(10); // learned (not fed: it may be old news)
    relay(11);
    expect(livenessA.detectors.snapshot('c', now)?.lastHeartbeatMs).toBe(now);
    // c itself talks to a: its header carries its current heartbeat, far ahead of what relays have.
    now += 500;
    a.receive(
      'c:1',
      encodeMessage({
        type: 'ping',
        header: { senderRef: cRef, senderHeartbeat: 20, receiverRef: 0, receiverVersion: 0 },
      }),
      now,
    );
    expect(livenessA.detectors.snapshot('c', now)?.lastHeartbeatMs).toBe(now);
    // Relayed news still older than that keeps coming, one round apart: each is fed, as before the ping.
    for (const heartbeat of [12, 13, 14]) {
      now += 1000;
      relay(heartbeat);
      expect(livenessA.detectors.snapshot('c', now)?.lastHeartbeatMs).toBe(now);
    }
    relay(14); // nothing newer: not fed
    now += 1000;
    relay(14);
    expect(livenessA.detectors.snapshot('c', now)?.lastHeartbeatMs).toBe(now - 1000);
  });

  it('convicts nobody by the first-contact timeout while recovering from its own stall', () => {
    const liveness = new PeerLiveness(DEFAULT_FAILURE_DETECTOR);
    const options = { ...DEFAULT_GOSSIP, mtuBytes: 512 };
    const a = new GossipNode({
      id: 'a',
      address: 'a:1',
      generation: T0,
      seeds: [],
      options,
      random: new SeededRandom(1),
      liveness,
    });
    const b = new GossipNode({
      id: 'b',
      address: 'b:1',
      generation: T0 + 1,
      seeds: ['a:1'],
      options,
      random: new SeededRandom(2),
      liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
    });
    let now = T0 + 10;
    for (let i = 0; i < 5; i++) {
      now += 1000;
      a.tick(now);
      for (const syn of b.tick(now))
        for (const ack of a.receive(b.address, syn.bytes, now))
          for (const ack2 of b.receive(a.address, ack.bytes, now)) a.receive(b.address, ack2.bytes, now);
    }
    expect(a.statusOf('b')).toBe('up');
    expect(a.snapshot('b')!.heartbeat).toBeGreaterThan(0);
    // a freezes for 20 s (a young detector: still judged by the first-contact timeout, not by phi).
    now += 20_000;
    expect(liveness.guard.observe(20_000, now)).toBe(true);
    a.tick(now);
    a.tick(now + 1000);
    expect(a.statusOf('b')).toBe('up');
    // Past the quiet period, silence is b's own: convicted.
    now = liveness.guard.quietUntil + 1000;
    a.tick(now);
    expect(a.statusOf('b')).toBe('down');
  });
});
