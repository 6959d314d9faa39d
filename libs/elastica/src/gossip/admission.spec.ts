import { describe, expect, it } from '@jest/globals';
import { SeededRandom } from '../common/random.js';
import { DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP } from '../options/defaults.js';
import { GossipNode } from './gossip-node.js';
import { PeerLiveness } from './peer-liveness.js';
import { cluster, T0 } from './testing/gossip-cluster.js';
import { encodeMessage } from './wire/codec.js';
import { incarnationRef } from './wire/incarnation.js';
import type { Delta, GossipMessage, Item } from './wire/messages.js';

describe('GossipNode (Scuttlebutt invariants, property-based)', () => {
  it('counts and drops malformed input without losing anything else', () => {
    const [a] = cluster(1, 512);
    a.set('k', 'v', T0);
    expect(a.receive('x:1', new Uint8Array([0xea, 0, 1]), T0)).toEqual([]);
    expect(a.stats.malformed).toBe(1);
    expect(a.get(a.id, 'k')).toBe('v');
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
    for (let i = 0; i < 3; i++) {
      exchange(b, a);
      exchange(a, b);
    }
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
});
