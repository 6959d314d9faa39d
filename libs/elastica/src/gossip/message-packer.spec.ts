import { describe, expect, it } from '@jest/globals';
import { SeededRandom } from '../common/random.js';
import { DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP } from '../options/defaults.js';
import { GossipNode, type Outgoing } from './gossip-node.js';
import { PeerLiveness } from './peer-liveness.js';
import { cluster, T0 } from './testing/gossip-cluster.js';
import { decodeMessage, encodeMessage } from './wire/codec.js';
import { incarnationRef } from './wire/incarnation.js';

describe('GossipNode (Scuttlebutt invariants, property-based)', () => {
  it('puts the most out-of-date owners first when the MTU is short (scuttle-depth)', () => {
    const [a, b] = cluster(2, 512);
    let now = T0 + 10;
    // b learns of a, then a publishes many keys; one exchange cannot carry them all.
    for (let i = 0; i < 3; i++)
      for (const [x, y] of [
        [a, b],
        [b, a],
      ] as const)
        for (const o of x.tick((now += 10)))
          for (const r of y.receive(x.address, o.bytes, now))
            for (const r2 of x.receive(y.address, r.bytes, now)) y.receive(x.address, r2.bytes, now);
    for (let i = 0; i < 40; i++) a.set(`key-${i}`, 'x'.repeat(30), now);
    const syn = b.tick((now += 10)).find((o) => o.to === a.address)!;
    const ack = decodeMessage(a.receive(b.address, syn.bytes, now)[0].bytes);
    expect(ack.type).toBe('ack');
    if (ack.type !== 'ack') return;
    expect(ack.deltas[0].ref).toBe(incarnationRef(a.id, a.generation));
    const versions = ack.deltas[0].items.map((i) => i.version);
    expect(versions.length).toBeGreaterThan(3);
    expect(versions.length).toBeLessThan(41);
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'sends the owners with the most outstanding entries first when not all fit (scuttle-depth, three owners, seed %i)',
    (seed) => {
      const [a, b, c] = cluster(3, 4096, seed);
      let now = T0 + 10;
      for (let i = 0; i < 60; i++) a.set(`key-${i}`, 'a'.repeat(30), now);
      for (let i = 0; i < 15; i++) b.set(`key-${i}`, 'b'.repeat(30), now);
      for (let i = 0; i < 40; i++) c.set(`key-${i}`, 'c'.repeat(30), now);
      const nodes = [a, b, c];
      for (let round = 0; round < 6; round++) {
        for (const x of nodes)
          for (const o of x.tick((now += 10))) {
            const y = nodes.find((n) => n.address === o.to);
            if (y)
              for (const r of y.receive(x.address, o.bytes, now))
                for (const r2 of x.receive(y.address, r.bytes, now)) y.receive(x.address, r2.bytes, now);
          }
      }
      expect(a.versionOf(b.id, 'key-14')).toBeGreaterThan(0);
      expect(a.versionOf(c.id, 'key-39')).toBeGreaterThan(0);
      // A peer that holds version 1 of each: 60, 15 and 40 entries outstanding, ~4.7 KB against a 4 KB MTU.
      const refs = nodes.map((n) => incarnationRef(n.id, n.generation));
      const header = { senderRef: 1, senderHeartbeat: 1, receiverRef: 0, receiverVersion: 0 };
      const syn = encodeMessage({
        type: 'syn',
        header,
        complete: false,
        digests: [refs[1], refs[0], refs[2]].map((ref) => ({ ref, version: 1 })),
      });
      const ack = decodeMessage(a.receive('10.9.9.9:7000', syn, now)[0].bytes);
      if (ack.type !== 'ack') throw new Error(`expected an ack, got ${ack.type}`);
      // a (61) whole, then c (41) as far as it fits; b (16) waits for the next exchange.
      // a (60 outstanding) and c (40) whole, then b (15) only as far as the rest of the MTU goes.
      expect(ack.deltas.map((d) => d.ref)).toEqual([refs[0], refs[2], refs[1]]);
      expect(ack.deltas[0].items).toHaveLength(60);
      expect(ack.deltas[1].items).toHaveLength(40);
      expect(ack.deltas[2].items.length).toBeLessThan(15);
    },
  );

  it("takes an honest owner's updates however the MTU cuts them (a part may mix old and new values)", () => {
    const options = { ...DEFAULT_GOSSIP, mtuBytes: 1400, maxStateBytes: 8192 };
    const node = (i: number) =>
      new GossipNode({
        id: `n${i}`,
        address: `10.0.0.${i}:7000`,
        generation: T0 + i,
        seeds: ['10.0.0.0:7000'],
        options,
        random: new SeededRandom(i),
        liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
      });
    const a = node(0);
    const b = node(1);
    const byAddress = new Map([
      [a.address, a],
      [b.address, b],
    ]);
    let now = T0 + 100;
    const deliver = (out: Outgoing[], from: GossipNode): void => {
      const queue = out.map((o) => ({ from: from.address, o }));
      while (queue.length > 0) {
        const { from: sender, o } = queue.shift()!;
        const to = byAddress.get(o.to)!;
        for (const reply of to.receive(sender, o.bytes, now)) queue.push({ from: to.address, o: reply });
      }
    };
    const rounds = (n: number): void => {
      for (let i = 0; i < n; i++) {
        now += 1000;
        deliver(a.tick(now), a);
        deliver(b.tick(now), b);
      }
    };
    for (let i = 1; i <= 5; i++) a.set(`k${i}`, 'x'.repeat(1200), now);
    rounds(10);
    expect(b.get(a.id, 'k5')).toBe('x'.repeat(1200));
    // Each step within the owner's bound; b receives them in version order, a message of 1400 bytes at a time.
    for (let i = 1; i <= 5; i++) a.set(`k${i}`, '', now);
    for (let i = 1; i <= 5; i++) a.set(`n${i}`, 'y'.repeat(1200), now);
    for (let i = 1; i <= 5; i++) a.set(`k${i}`, 'z', now);
    rounds(30);
    expect(b.get(a.id, 'n5')).toBe('y'.repeat(1200));
    expect(b.get(a.id, 'k5')).toBe('z');
    expect(b.stats.refusedState).toBe(0);
  });
});
