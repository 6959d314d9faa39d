import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SeededRandom } from '../common/random.js';
import { DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP } from '../options/defaults.js';
import { GossipNode, type Outgoing } from './gossip-node.js';
import { PeerLiveness } from './peer-liveness.js';
import { decodeVerdicts, encodeVerdicts, MAX_VERDICTS, VERDICTS_KEY } from './verdicts.js';
import { decodeMessage, encodeMessage } from './wire/codec.js';
import { incarnationRef } from './wire/incarnation.js';
import type { Delta, DigestEntry, GossipMessage, Item } from './wire/messages.js';

const T0 = 1_700_000_000_000;

function clusterNode(i: number, generation: number, mtuBytes: number, seed: number): GossipNode {
  return new GossipNode({
    id: `n${i}`,
    address: `10.0.0.${i}:7000`,
    generation,
    seeds: ['10.0.0.0:7000'],
    options: { ...DEFAULT_GOSSIP, mtuBytes },
    random: new SeededRandom(seed),
    liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
  });
}

function cluster(size: number, mtuBytes = 512, seed = 1): GossipNode[] {
  return Array.from({ length: size }, (_, i) => clusterNode(i, T0 + i, mtuBytes, seed * 100 + i));
}

interface InFlight {
  from: string;
  to: string;
  bytes: Uint8Array;
}

/** Which owner a delta's ref names, from the sender's point of view. */
function ownerOf(sender: GossipNode, refValue: number): string | undefined {
  for (const m of sender.members()) if (incarnationRef(m.id, m.generation) === refValue) return m.id;
  return undefined;
}

/**
 * Checks a reply against what it answers: no item the peer's digest (or request) shows it has, and per
 * owner exactly the sender's entries from the peer's version up to the last one sent (no gap).
 */
function checkReply(sender: GossipNode, reply: GossipMessage, asked: Map<number, number>): void {
  if (reply.type !== 'ack' && reply.type !== 'ack2') return;
  for (const delta of reply.deltas) {
    const had = asked.get(delta.ref) ?? 0;
    if (!asked.has(delta.ref) || had === 0) expect(delta.identity).toBeDefined();
    const owner = delta.identity?.id ?? ownerOf(sender, delta.ref)!;
    const snap = sender.snapshot(owner)!;
    const versions = delta.items.map((item) => item.version);
    for (const v of versions) expect(v).toBeGreaterThan(had);
    const last = versions[versions.length - 1];
    const held = [snap.heartbeat, ...Object.values(snap.versions)]
      .filter((v) => v > had && v <= last)
      .sort((a, b) => a - b);
    expect(versions).toEqual(held);
  }
}

const command = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('set' as const),
      node: fc.nat(4),
      key: fc.constantFrom('a', 'b', 'c', 'elastica.tokens'),
      value: fc.string({ maxLength: 120 }),
    }),
  },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('tick' as const), node: fc.nat(4) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
  // A node restarts: same id and address, a higher generation, nothing remembered; messages in flight
  // to its address reach the new run, and the old run's still arrive from it.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node: fc.nat(4) }) },
);

describe('GossipNode (Scuttlebutt invariants, property-based)', () => {
  it('never sends a redundant delta, never leaves a gap, never moves a version back, and converges (restarts included)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.array(command, { maxLength: 150 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.nat(4),
        (size, commands, seed, lateRestart) => {
          const nodes = cluster(size, 512, seed);
          const byAddress = new Map(nodes.map((n) => [n.address, n]));
          const inFlight: InFlight[] = [];
          // What each message answers: the digest of a syn, the requests of an ack.
          const answering = new WeakMap<Uint8Array, Map<number, number>>();
          const seen = new Map<string, [number, number]>();
          let now = T0 + 10;
          let restarts = 0;

          const send = (from: GossipNode, out: Outgoing[], answers?: Map<number, number>): void => {
            for (const o of out) {
              expect(o.bytes.length).toBeLessThanOrEqual(512);
              const message = decodeMessage(o.bytes);
              if (answers) checkReply(from, message, answers);
              inFlight.push({ from: from.address, to: o.to, bytes: o.bytes });
            }
          };
          const asMap = (entries: DigestEntry[]) => new Map(entries.map((e) => [e.ref, e.version]));
          const deliver = (m: InFlight): void => {
            const to = byAddress.get(m.to);
            if (!to) return;
            const message = decodeMessage(m.bytes);
            const answers =
              message.type === 'syn'
                ? asMap(message.digests)
                : message.type === 'ack'
                  ? asMap(message.requests)
                  : undefined;
            send(to, to.receive(m.from, m.bytes, now), answers);
          };
          const restart = (i: number): void => {
            const fresh = clusterNode(i, Math.max(now, nodes[i].generation + 1), 512, seed * 100 + i + 10 * ++restarts);
            nodes[i] = fresh;
            byAddress.set(fresh.address, fresh);
            // The new run's view starts empty: what the old run saw says nothing about its monotony.
            for (const key of [...seen.keys()]) if (key.startsWith(`${fresh.id}>`)) seen.delete(key);
          };
          const monotonic = (): void => {
            for (const observer of nodes)
              for (const m of observer.members()) {
                const snap = observer.snapshot(m.id)!;
                const key = `${observer.id}>${m.id}`;
                const before = seen.get(key);
                if (before)
                  expect(
                    snap.generation > before[0] || (snap.generation === before[0] && snap.maxVersion >= before[1]),
                  ).toBe(true);
                seen.set(key, [snap.generation, snap.maxVersion]);
              }
          };

          for (const c of commands) {
            now += 7;
            if (c.kind === 'set') nodes[c.node % size].set(c.key, c.value, now);
            else if (c.kind === 'restart') restart(c.node % size);
            else if (c.kind === 'tick') send(nodes[c.node % size], nodes[c.node % size].tick(now));
            else if (inFlight.length > 0) {
              const i = c.pick % inFlight.length;
              const m = inFlight[i];
              if (c.kind !== 'duplicate') inFlight.splice(i, 1);
              if (c.kind !== 'drop') deliver(m); // out of order: any in-flight message may go next
            }
            monotonic();
          }
          // Then a reliable network for a while: every view must become the same, though one node
          // restarts after everyone has come to know it (the random restarts above may come too early).
          for (let round = 0; round < 40; round++) {
            now += 50;
            if (round === 10) restart(lateRestart % size);
            for (const node of nodes) send(node, node.tick(now));
            while (inFlight.length > 0) deliver(inFlight.shift()!);
            monotonic();
          }
          const render = (n: GossipNode) =>
            JSON.stringify(
              n
                .members()
                .map((m) => [m.id, m.generation, Object.entries(m.state).sort()])
                .sort(),
            );
          for (const node of nodes) expect(render(node)).toBe(render(nodes[0]));
          expect(nodes[0].members()).toHaveLength(size);
          // Every node holds every node's current run (a restarted node's old run is gone everywhere).
          for (const node of nodes)
            for (const other of nodes) expect(node.generationOf(other.id)).toBe(other.generation);
        },
      ),
      { numRuns: 60 },
    );
  });

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

  it('refuses a generation absurdly far in the future, and takes over its own identity from a forged one', () => {
    const [a] = cluster(1, 512);
    const header = { senderRef: 1, senderHeartbeat: 1, receiverRef: 0, receiverVersion: 0 };
    const now = T0 + 1000;
    const future = now + DEFAULT_GOSSIP.maxGenerationSkewMs + 1;
    const forged = (id: string, generation: number) =>
      encodeMessage({
        type: 'ack2',
        header,
        deltas: [
          {
            ref: incarnationRef(id, generation),
            identity: { id, address: 'x:1', generation },
            items: [{ version: 5, key: undefined, status: 'up' }],
          },
        ],
      });
    a.receive('x:1', forged('stranger', future), now);
    expect(a.member('stranger')).toBeUndefined();
    expect(a.stats.refusedGenerations).toBe(1);
    a.receive('x:1', forged('stranger', now - 5), now);
    expect(a.member('stranger')?.generation).toBe(now - 5);
    expect(a.member('stranger')?.status).toBe('down'); // relayed by x:1, never heard from itself
    // Someone holds a newer generation of a itself: a refutes with a generation above it.
    a.receive('x:1', forged(a.id, now + 60_000), now);
    expect(a.generation).toBeGreaterThan(now + 60_000);
    expect(a.stats.refutations).toBe(1);
  });

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
    for (let i = 0; i < 3; i++) (exchange(a, b), exchange(b, a));
    for (let i = 0; i < 3; i++) (exchange(a, c), exchange(c, a));
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
    a.tick((now += 1000));
    expect(a.statusOf('b')).toBe('up');
    // Past the quiet period, silence is b's own: convicted.
    now = liveness.guard.quietUntil + 1000;
    a.tick(now);
    expect(a.statusOf('b')).toBe('down');
  });

  it('counts and drops malformed input without losing anything else', () => {
    const [a] = cluster(1, 512);
    a.set('k', 'v', T0);
    expect(a.receive('x:1', new Uint8Array([0xea, 0, 1]), T0)).toEqual([]);
    expect(a.stats.malformed).toBe(1);
    expect(a.get(a.id, 'k')).toBe('v');
  });

  it('refuses set() of a value that could never fit one message', () => {
    const [a] = cluster(1, 512);
    expect(() => a.set('big', 'x'.repeat(600), T0)).toThrow(/gossip\.mtuBytes/);
    expect(() => a.set('', 'x', T0)).toThrow(/non-empty/);
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

  it('refuses absurd claims about a node (generation past the skew, versions near 2^53): no freeze, no refutation, one log line', () => {
    const notices: string[] = [];
    const node = (i: number, listener?: { notice(level: string, message: string): void }) =>
      new GossipNode({
        id: `n${i}`,
        address: `10.0.0.${i}:7000`,
        generation: T0 + i,
        seeds: ['10.0.0.0:7000'],
        options: { ...DEFAULT_GOSSIP, mtuBytes: 512 },
        random: new SeededRandom(i + 7),
        liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
        listener,
      });
    const a = node(0, { notice: (_, message) => notices.push(message) });
    const b = node(1);
    let now = T0 + 1000;
    const exchange = (x: GossipNode, y: GossipNode): void => {
      for (const syn of x.tick((now += 100))) {
        if (syn.to !== y.address) continue;
        for (const ack of y.receive(x.address, syn.bytes, now))
          for (const ack2 of x.receive(y.address, ack.bytes, now)) y.receive(x.address, ack2.bytes, now);
      }
    };
    for (let i = 0; i < 3; i++) (exchange(b, a), exchange(a, b));
    const bRef = incarnationRef(b.id, b.generation);
    const aRef = incarnationRef(a.id, a.generation);
    const header = { senderRef: 1, senderHeartbeat: 1, receiverRef: 0, receiverVersion: 0 };
    const absurd = Number.MAX_SAFE_INTEGER;
    const future = now + 10 * DEFAULT_GOSSIP.maxGenerationSkewMs;
    const lies: GossipMessage[] = [
      // b's versions near 2^53, by ref and with its identity: a would skip b's real news for ever
      { type: 'ack2', header, deltas: [{ ref: bRef, items: [{ version: absurd, key: undefined, status: 'up' }] }] },
      {
        type: 'ack2',
        header,
        deltas: [
          {
            ref: bRef,
            identity: { id: b.id, address: b.address, generation: b.generation },
            items: [
              { version: absurd - 1, key: 'k', value: 'lie' },
              { version: absurd, key: undefined, status: 'up' },
            ],
          },
        ],
      },
      // a's own versions and generation: refuting would change its generation (and to 10 years ahead)
      {
        type: 'syn',
        header,
        complete: false,
        digests: [
          { ref: aRef, version: absurd },
          { ref: bRef, version: absurd },
        ],
      },
      {
        type: 'ack',
        header,
        requests: [{ ref: aRef, version: absurd }],
        deltas: [{ ref: aRef, items: [{ version: absurd, key: undefined, status: 'up' }] }],
      },
      {
        type: 'ack2',
        header,
        deltas: [
          {
            ref: incarnationRef(a.id, future),
            identity: { id: a.id, address: a.address, generation: future },
            items: [{ version: 1, key: undefined, status: 'up' }],
          },
        ],
      },
      {
        type: 'ack2',
        header,
        deltas: [
          {
            ref: incarnationRef(b.id, future),
            identity: { id: b.id, address: b.address, generation: future },
            items: [{ version: 1, key: undefined, status: 'up' }],
          },
        ],
      },
    ];
    const aGeneration = a.generation;
    const bBefore = a.snapshot(b.id)!;
    for (let round = 0; round < 3; round++) for (const lie of lies) a.receive('x:1', encodeMessage(lie), now);
    expect(a.generation).toBe(aGeneration);
    expect(a.stats.refutations).toBe(0);
    expect(a.snapshot(b.id)).toEqual(bBefore);
    expect(a.stats.refusedGenerations).toBe(6);
    expect(a.stats.refusedVersions).toBe(3 * 6);
    expect(notices.filter((n) => n.includes('refused'))).toHaveLength(1);
    expect(notices[0]).toMatch(/refused a claim from x:1 about node n1: version 9007199254740991/);
    // b's later news still arrives, and b's generation is the real one.
    b.set('k', 'truth', now);
    exchange(b, a);
    expect(a.get(b.id, 'k')).toBe('truth');
    expect(a.generationOf(b.id)).toBe(b.generation);
    // A minute later the next refusal is logged again, with the counts.
    now += 60_000;
    a.receive('x:1', encodeMessage(lies[0]), now);
    expect(notices.filter((n) => n.includes('refused'))).toHaveLength(2);
    expect(notices.at(-1)).toMatch(/refused so far: 6 generation\(s\), 19 version\(s\)/);
  });

  it('bounds what others may make it hold: messages past the MTU, state past maxStateBytes, strangers past maxMembers', () => {
    // The state bound a receiver applies is twice maxStateBytes: a delta cut by the MTU may leave it
    // with the owner's new values for some keys and old ones for others.
    const options = { ...DEFAULT_GOSSIP, mtuBytes: 16_384, maxStateBytes: 4096, maxMembers: 4 };
    const a = new GossipNode({
      id: 'a',
      address: 'a:1',
      generation: T0,
      seeds: [],
      options,
      random: new SeededRandom(1),
      liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
    });
    let now = T0 + 60_000;
    const header = { senderRef: 1, senderHeartbeat: 1, receiverRef: 0, receiverVersion: 0 };
    const identity = (id: string) => ({ id, address: `${id}:1`, generation: T0 });
    const heartbeat: Item = { version: 1, key: undefined, status: 'up' };
    const value = 'v'.repeat(1500);
    const ack2 = (...deltas: Delta[]) => encodeMessage({ type: 'ack2', header, deltas });

    // Within both bounds: taken.
    a.receive(
      'x:1',
      ack2({
        ref: incarnationRef('p', T0),
        identity: identity('p'),
        items: [heartbeat, { version: 2, key: 'k1', value }, { version: 3, key: 'k2', value }],
      }),
      now,
    );
    expect(a.get('p', 'k2')).toBe(value);
    // Five more values would take p past 2 x 4096 bytes: the delta is refused whole (no gap, nothing half-applied).
    a.receive(
      'x:1',
      ack2({
        ref: incarnationRef('p', T0),
        items: [
          { version: 4, key: 'k3', value: 'w' },
          ...[5, 6, 7, 8].map((v) => ({ version: v, key: `k${v}`, value })),
        ],
      }),
      now,
    );
    expect(a.get('p', 'k3')).toBeUndefined();
    expect(a.versionOf('p', 'k2')).toBe(3);
    expect(a.stats.refusedState).toBe(1);
    // Overwriting a key with a value of the same size is no growth: taken.
    a.receive(
      'x:1',
      ack2({ ref: incarnationRef('p', T0), items: [{ version: 4, key: 'k1', value: value.toUpperCase() }] }),
      now,
    );
    expect(a.get('p', 'k1')).toBe(value.toUpperCase());
    // A new node whose very first state is too big is never created.
    a.receive(
      'x:1',
      ack2({
        ref: incarnationRef('q', T0),
        identity: identity('q'),
        items: [heartbeat, { version: 2, key: 'k', value: 'z'.repeat(9000) }],
      }),
      now,
    );
    expect(a.member('q')).toBeUndefined();
    expect(a.stats.refusedState).toBe(2);

    // A message longer than the MTU is dropped unread, whatever it says.
    const big = ack2(
      ...['r', 's', 't'].map((id) => ({
        ref: incarnationRef(id, T0),
        identity: identity(id),
        items: [heartbeat, { version: 2, key: 'k', value: 'x'.repeat(6000) }],
      })),
    );
    expect(big.length).toBeGreaterThan(options.mtuBytes);
    expect(a.receive('x:1', big, now)).toEqual([]);
    expect(a.stats.refusedOversized).toBe(1);
    expect(a.member('r')).toBeUndefined();

    // Strangers beyond maxMembers (a, p and two more) are refused while everyone known may be alive.
    for (const id of ['m1', 'm2', 'm3', 'm4'])
      a.receive('x:1', ack2({ ref: incarnationRef(id, T0), identity: identity(id), items: [heartbeat] }), now);
    expect(
      a
        .members()
        .map((m) => m.id)
        .sort(),
    ).toEqual(['a', 'm1', 'm2', 'p']);
    expect(a.stats.refusedMembers).toBe(2);
    // Once some have been silent past the first-contact timeout, the quietest makes room for a newcomer;
    // one still in the news (m2) stays.
    now += 60_000;
    a.tick(now);
    a.receive(
      'x:1',
      ack2({ ref: incarnationRef('m2', T0), items: [{ version: 2, key: undefined, status: 'up' }] }),
      now,
    );
    a.receive('x:1', ack2({ ref: incarnationRef('m5', T0), identity: identity('m5'), items: [heartbeat] }), now);
    expect(a.member('m5')).toBeDefined();
    expect(a.member('m2')).toBeDefined();
    expect(a.members()).toHaveLength(4);
    expect(a.stats.refusedMembers).toBe(2);
    expect(a.stats.malformed).toBe(0);
  });

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

  it('refuses set() past maxStateBytes, keeping room for its own verdicts', () => {
    const a = new GossipNode({
      id: 'a',
      address: 'a:1',
      generation: T0,
      seeds: [],
      options: { ...DEFAULT_GOSSIP, maxStateBytes: 8192 },
      random: new SeededRandom(1),
      liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
    });
    a.set('k1', 'x'.repeat(3000), T0);
    a.set('k2', 'x'.repeat(3000), T0);
    expect(() => a.set('k3', 'x'.repeat(1000), T0)).toThrow(
      /"k3" would bring this node's state to \d+ bytes; at most \d+ allowed \(gossip\.maxStateBytes 8192/,
    );
    a.set('k2', 'y'.repeat(3000), T0); // same size: still fits
    expect(a.get('a', 'k3')).toBeUndefined();
    expect(a.get('a', 'k2')).toBe('y'.repeat(3000));
  });

  it('set() keeps its versions within what peers accept', () => {
    const a = new GossipNode({
      id: 'a',
      address: 'a:1',
      generation: T0,
      seeds: [],
      options: { ...DEFAULT_GOSSIP, maxGenerationSkewMs: 10 },
      random: new SeededRandom(1),
      liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
    });
    for (let i = 1; i <= 5; i++) a.set('k', `v${i}`, T0);
    expect(() => a.set('k', 'v6', T0)).toThrow(/version 6.*gossip\.maxGenerationSkewMs/);
    expect(a.get('a', 'k')).toBe('v5');
    a.set('k', 'v6', T0 + 1);
    expect(a.get('a', 'k')).toBe('v6');
  });
});

describe('GossipNode verdicts (gossiped convictions)', () => {
  const options = { ...DEFAULT_GOSSIP };
  interface Peer {
    node: GossipNode;
    liveness: PeerLiveness;
  }
  const peer = (i: number, detector = DEFAULT_FAILURE_DETECTOR): Peer => {
    const liveness = new PeerLiveness(detector);
    const node = new GossipNode({
      id: `n${i}`,
      address: `10.0.0.${i}:7000`,
      generation: T0 + i,
      seeds: ['10.0.0.0:7000'],
      options,
      random: new SeededRandom(i + 3),
      liveness,
    });
    return { node, liveness };
  };
  const ref = (n: GossipNode): number => incarnationRef(n.id, n.generation);
  /** One round on a reliable network between the nodes that are not `silent`. */
  const round = (peers: Peer[], now: number, silent: ReadonlySet<GossipNode> = new Set()): void => {
    const byAddress = new Map(peers.map((p) => [p.node.address, p.node]));
    const queue: { from: string; out: Outgoing }[] = [];
    for (const { node } of peers)
      if (!silent.has(node)) for (const out of node.tick(now)) queue.push({ from: node.address, out });
    while (queue.length > 0) {
      const { from, out } = queue.shift()!;
      const to = byAddress.get(out.to);
      if (!to || silent.has(to)) continue;
      for (const reply of to.receive(from, out.bytes, now)) queue.push({ from: to.address, out: reply });
    }
  };
  /** Three nodes a (the judge), b (the accused), c (the witness), out of probation after 40 rounds. */
  const setup = (detectorOfA = DEFAULT_FAILURE_DETECTOR): { a: Peer; b: Peer; c: Peer; peers: Peer[]; now: number } => {
    const peers = [peer(0, detectorOfA), peer(1), peer(2)];
    let now = T0 + 10;
    for (let i = 0; i < 40; i++) round(peers, (now += 1000));
    for (const p of peers) for (const q of peers) if (p !== q) expect(p.node.statusOf(q.node.id)).toBe('up');
    return { a: peers[0], b: peers[1], c: peers[2], peers, now };
  };
  /** c's state says `value` under the verdicts key, as relayed by a third party. */
  const relayVerdicts = (to: GossipNode, c: GossipNode, value: string, now: number): void => {
    const version = to.snapshot(c.id)!.maxVersion + 1;
    const header = { senderRef: 1, senderHeartbeat: 1, receiverRef: 0, receiverVersion: 0 };
    to.receive(
      'x:1',
      encodeMessage({
        type: 'ack2',
        header,
        deltas: [{ ref: ref(c), items: [{ version, key: VERDICTS_KEY, value }] }],
      }),
      now,
    );
  };
  const knownHeartbeat = (a: GossipNode, b: GossipNode): number => a.snapshot(b.id)!.heartbeat;

  it('adopts a verdict that knew every heartbeat it knows, once its own detector suspects too; ignores an outdated one', () => {
    const { a, b, c, now: t } = setup();
    let now = t;
    const h = knownHeartbeat(a.node, b.node);
    // Outdated: the witness knew less than a does.
    relayVerdicts(a.node, c.node, encodeVerdicts([{ ref: ref(b.node), heartbeat: h - 1 }]), (now += 100));
    a.node.tick((now += 900));
    expect(a.node.statusOf(b.node.id)).toBe('up');
    // Up to date, but b was heard a second ago: a's own phi is below 1, so it waits.
    expect(a.liveness.suspicion(b.node.id, now)).toBeLessThan(1 / 8);
    relayVerdicts(a.node, c.node, encodeVerdicts([{ ref: ref(b.node), heartbeat: h }]), (now += 10));
    expect(a.node.statusOf(b.node.id)).toBe('up');
    // b stays silent: a adopts as soon as its phi reaches 1, long before its own phi would convict.
    while (a.node.statusOf(b.node.id) === 'up') a.node.tick((now += 1000));
    expect(a.liveness.detectors.phi(b.node.id, now)).toBeGreaterThanOrEqual(1);
    expect(a.liveness.isAvailable(b.node.id, now)).toBe(true);
    expect(a.node.stats.adoptedVerdicts).toBe(1);
    // Adopted verdicts are not republished: only the witness's own detector speaks for it.
    expect(a.node.get(a.node.id, VERDICTS_KEY)).toBeUndefined();
    expect(a.node.member(b.node.id)!.state).toEqual({});
  });

  it("comes back up on the accused's own word, and a verdict acts only once", () => {
    const { a, b, c, peers, now: t } = setup();
    let now = t + 6000; // b quiet for 6 s: phi over 1, under 8
    const h = knownHeartbeat(a.node, b.node);
    relayVerdicts(a.node, c.node, encodeVerdicts([{ ref: ref(b.node), heartbeat: h + 50 }]), now);
    expect(a.node.statusOf(b.node.id)).toBe('down');
    // b talks to a directly with a newer heartbeat: up again, and the same verdict does not convict again.
    for (let i = 0; i < 3; i++) round(peers, (now += 1000));
    expect(a.node.statusOf(b.node.id)).toBe('up');
    expect(a.node.stats.adoptedVerdicts).toBe(1);
  });

  it('never adopts while recovering from its own stall', () => {
    const { a, b, c, now: t } = setup({ ...DEFAULT_FAILURE_DETECTOR, localPauseMs: 100 });
    let now = t;
    // b falls silent; wait until a's own detector suspects it (phi >= 1) but would not convict yet.
    while (a.liveness.suspicion(b.node.id, now) < 1 / 8) now += 20;
    expect(a.liveness.detectors.isAvailable(b.node.id, now)).toBe(true);
    // a stalled 200 ms: for that long it convicts nobody, on its own phi or on anyone's word.
    expect(a.liveness.guard.observe(200, now)).toBe(true);
    relayVerdicts(
      a.node,
      c.node,
      encodeVerdicts([{ ref: ref(b.node), heartbeat: knownHeartbeat(a.node, b.node) }]),
      now,
    );
    a.node.tick((now += 100));
    expect(a.node.statusOf(b.node.id)).toBe('up');
    a.node.tick((now = a.liveness.guard.quietUntil));
    expect(a.node.statusOf(b.node.id)).toBe('down');
    expect(a.node.stats.adoptedVerdicts).toBe(1);
  });

  it('publishes its own convictions, ignored where the accused was heard from since, withdrawn once it is heard from', () => {
    const { a, b, c, peers, now: t } = setup();
    let now = t;
    // c is cut off from everyone: its own phi convicts a and b, and it says so.
    let rounds = 0;
    while (c.node.statusOf(b.node.id) === 'up' && rounds++ < 60) (round([a, b], (now += 1000)), c.node.tick(now));
    expect(c.node.statusOf(b.node.id)).toBe('down');
    c.node.tick((now += 1000));
    const published = decodeVerdicts(c.node.get(c.node.id, VERDICTS_KEY)!);
    expect(published).toContainEqual({ ref: ref(b.node), heartbeat: c.node.snapshot(b.node.id)!.heartbeat });
    // c reaches a again (b still cannot reach c): a heard from b since, so c's verdict is outdated there.
    for (let i = 0; i < 3; i++) (round([a, c], (now += 1000)), round([a, b], now + 1));
    expect(a.node.get(c.node.id, VERDICTS_KEY)).toBeDefined();
    expect(a.node.statusOf(b.node.id)).toBe('up');
    expect(a.node.stats.adoptedVerdicts).toBe(0);
    // b reaches c again: up at c, the verdict withdrawn, and the withdrawal gossiped.
    for (let i = 0; i < 3; i++) round(peers, (now += 1000));
    expect(c.node.statusOf(b.node.id)).toBe('up');
    expect(c.node.get(c.node.id, VERDICTS_KEY)).toBe('');
    expect(a.node.get(c.node.id, VERDICTS_KEY)).toBe('');
  });

  it('recovers from wrong verdicts in an arbitrary starting view (stale, current and future): everyone ends up up', () => {
    const { a, b, c, peers, now: t } = setup();
    let now = t;
    const hb = knownHeartbeat(a.node, b.node);
    const wrong = encodeVerdicts([
      { ref: ref(b.node), heartbeat: hb + 40 },
      { ref: ref(a.node), heartbeat: 1 },
      { ref: ref(c.node), heartbeat: hb },
    ]);
    for (const observer of [a, b]) {
      const snap = observer.node.snapshot(c.node.id)!;
      observer.node.loadView(
        [
          {
            id: c.node.id,
            address: c.node.address,
            generation: c.node.generation,
            heartbeat: snap.heartbeat,
            status: 'up',
            state: { [VERDICTS_KEY]: { value: wrong, version: snap.heartbeat + 1 } },
          },
        ],
        now,
      );
    }
    const downs: string[] = [];
    for (let i = 0; i < 90; i++) {
      round(peers, (now += 1000));
      if (i >= 60)
        for (const p of peers)
          for (const q of peers)
            if (p !== q && p.node.statusOf(q.node.id) !== 'up') downs.push(`${p.node.id}>${q.node.id}`);
    }
    expect(downs).toEqual([]);
  });

  it('keeps at most MAX_VERDICTS, newest first, and withdraws them after a bounded time', () => {
    const liveness = new PeerLiveness(DEFAULT_FAILURE_DETECTOR);
    const a = new GossipNode({
      id: 'a',
      address: 'a:1',
      generation: T0,
      seeds: [],
      options,
      random: new SeededRandom(1),
      liveness,
    });
    let now = T0 + 1000;
    // 100 members that are never heard of again: the first-contact timeout convicts them all.
    a.loadView(
      Array.from({ length: 100 }, (_, k) => ({
        id: `p${k}`,
        address: `p${k}:1`,
        generation: T0 - k,
        heartbeat: 5,
        status: 'up' as const,
      })),
      now,
    );
    let ticks = 0;
    while (a.members().some((m) => m.status === 'up' && m.id !== 'a') && ticks++ < 100) a.tick((now += 1000));
    expect(a.members().filter((m) => m.status === 'down')).toHaveLength(100);
    const published = decodeVerdicts(a.get('a', VERDICTS_KEY)!);
    expect(published).toHaveLength(MAX_VERDICTS);
    expect(new Set(published.map((v) => v.ref)).size).toBe(MAX_VERDICTS);
    for (const v of published) expect(v.heartbeat).toBe(5);
    for (let i = 0; i < 60; i++) a.tick((now += 1000));
    expect(a.get('a', VERDICTS_KEY)).toBe('');
    expect(() => a.set(VERDICTS_KEY, '', now)).toThrow(/core's own/);
  });

  it('refuses malformed or implausible verdicts, counts them, and loses nothing else', () => {
    const { a, b, c, now: t } = setup();
    const now = t + 6000;
    for (const value of [
      'garbage',
      'zz:',
      ' ',
      `${ref(b.node).toString(36)}:-1`,
      `0:5`,
      `${ref(b.node).toString(36)}:${'z'.repeat(11)}`,
      Array.from({ length: 65 }, () => '1:1').join(' '),
    ]) {
      relayVerdicts(a.node, c.node, value, now);
    }
    expect(a.node.stats.refusedVerdicts).toBe(7);
    // A heartbeat b cannot have stamped yet (one version per ms since its generation, plus the skew).
    relayVerdicts(
      a.node,
      c.node,
      encodeVerdicts([
        { ref: ref(b.node), heartbeat: now - b.node.generation + DEFAULT_GOSSIP.maxGenerationSkewMs + 1 },
      ]),
      now,
    );
    expect(a.node.stats.refusedVerdicts).toBe(8);
    expect(a.node.statusOf(b.node.id)).toBe('up');
    expect(a.node.statusOf(c.node.id)).toBe('up');
  });
});
