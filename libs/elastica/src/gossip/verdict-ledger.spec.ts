import { describe, expect, it } from '@jest/globals';
import { SeededRandom } from '../common/random.js';
import { DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP } from '../options/defaults.js';
import { GossipNode, type Outgoing } from './gossip-node.js';
import { PeerLiveness } from './peer-liveness.js';
import { T0 } from './testing/gossip-cluster.js';
import { decodeVerdicts, encodeVerdicts, MAX_VERDICTS, VERDICTS_KEY } from './verdicts.js';
import { encodeMessage } from './wire/codec.js';
import { incarnationRef } from './wire/incarnation.js';

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
    a.node.tick(now + 100);
    expect(a.node.statusOf(b.node.id)).toBe('up');
    a.node.tick(a.liveness.guard.quietUntil);
    expect(a.node.statusOf(b.node.id)).toBe('down');
    expect(a.node.stats.adoptedVerdicts).toBe(1);
  });

  it('publishes its own convictions, ignored where the accused was heard from since, withdrawn once it is heard from', () => {
    const { a, b, c, peers, now: t } = setup();
    let now = t;
    // c is cut off from everyone: its own phi convicts a and b, and it says so.
    let rounds = 0;
    while (c.node.statusOf(b.node.id) === 'up' && rounds++ < 60) {
      round([a, b], (now += 1000));
      c.node.tick(now);
    }
    expect(c.node.statusOf(b.node.id)).toBe('down');
    c.node.tick((now += 1000));
    const published = decodeVerdicts(c.node.get(c.node.id, VERDICTS_KEY)!);
    expect(published).toContainEqual({ ref: ref(b.node), heartbeat: c.node.snapshot(b.node.id)!.heartbeat });
    // c reaches a again (b still cannot reach c): a heard from b since, so c's verdict is outdated there.
    for (let i = 0; i < 3; i++) {
      round([a, c], (now += 1000));
      round([a, b], now + 1);
    }
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
