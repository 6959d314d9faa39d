import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { ELASTICA_OPTIONS, GossipService, type ResolvedElasticaOptions } from 'elastica';
import {
  decodeMessage,
  encodeMessage,
  GOSSIP_CHANNEL,
  incarnationRef,
  type Delta,
  type DigestEntry,
  type GossipChannel,
  type GossipMessage,
  type Item,
  type MessageHeader,
} from 'elastica/testing';
import { TestHandlers } from '../transport/handlers.js';
import { closeStartedNodes, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';

/**
 * Hostile gossip from a member (it holds the secret, so the transport lets it in): claims about
 * ANOTHER node (node-b) with absurd generations or versions, and oversized application state. The
 * evil node runs a real GossipService; the test bends every message it sends with the real codec
 * (decode, rewrite what concerns node-b, encode) and counts the forgeries, so a forging that does
 * nothing fails the test instead of letting it pass vacuously. Then floods: thousands of each kind of
 * refused claim sent straight to a fresh node, each counted, logged once, and held under an RSS ceiling.
 */
describe('hostile gossip', () => {
  let a: TestNode;
  let b: TestNode;
  let evil: TestNode;
  /** The current forgery (none: evil sends what its gossip produced) and what it sent, per receiver. */
  let forge: ((message: GossipMessage, bRef: number) => boolean) | undefined;
  let forgedTo = new Map<string, number>();
  const opts = { cluster: 'c', secret: 's', gossip: { intervalMs: 100 } };

  beforeAll(async () => {
    a = await startTrackedNode('node-a', { ...opts, seeds: [] }, [TestHandlers]);
    b = await startTrackedNode('node-b', { ...opts, seeds: [a.address] }, [TestHandlers]);
    evil = await startTrackedNode('node-evil', { ...opts, seeds: [a.address] }, [TestHandlers]);
    await until(
      'node-a to see all three up',
      () =>
        a.app
          .get(GossipService)
          .members()
          .filter((m) => m.status === 'up').length === 3,
      15_000,
      50,
    );
    await until(
      'node-evil to see node-b up',
      () => evil.app.get(GossipService).member('node-b')?.status === 'up',
      15_000,
      50,
    );

    const channel = evil.app.get<GossipChannel>(GOSSIP_CHANNEL);
    const original = channel.send.bind(channel);
    channel.send = (to, bytes) => {
      const bNow = evil.app.get(GossipService).member('node-b');
      if (!forge || !bNow) return original(to, bytes);
      const message = decodeMessage(bytes);
      if (!forge(message, incarnationRef('node-b', bNow.generation))) return original(to, bytes);
      forgedTo.set(to, (forgedTo.get(to) ?? 0) + 1);
      return original(to, encodeMessage(message));
    };
  }, 40_000);
  afterEach(() => {
    forge = undefined;
    forgedTo = new Map();
  });
  afterAll(closeStartedNodes);

  const gossipOf = (node: TestNode): GossipService => node.app.get(GossipService);
  const forgedCount = (node: TestNode): number => forgedTo.get(node.address) ?? 0;

  /** Rewrites node-b's digest entries and deltas in `message`; adds a delta about node-b when it carries none. */
  function rewriteAboutB(
    message: GossipMessage,
    bRef: number,
    digest: (entry: DigestEntry) => DigestEntry,
    delta: (delta: Delta | undefined) => Delta,
  ): boolean {
    let forged = false;
    const entries = message.type === 'syn' ? message.digests : message.type === 'ack' ? message.requests : [];
    entries.forEach((entry, i) => {
      if (entry.ref !== bRef) return;
      entries[i] = digest(entry);
      forged = true;
    });
    if (message.type === 'ack' || message.type === 'ack2') {
      const i = message.deltas.findIndex((d) => d.ref === bRef);
      if (i >= 0) message.deltas[i] = delta(message.deltas[i]);
      else message.deltas.push(delta(undefined));
      forged = true;
    }
    return forged;
  }

  /** Node-b's announced heartbeat, at `version`. */
  const heartbeatItem = (version: number): Item => ({ version, key: undefined, status: 'up' });

  /** Logged warnings of `node`'s gossip service (the apps run with logging off; the calls still happen). */
  function spyWarnings(node: TestNode): () => string[] {
    const logger = (gossipOf(node) as unknown as { logger: { warn(message: string): void } }).logger;
    const spy = jest.spyOn(logger, 'warn');
    return () => spy.mock.calls.map((call) => String(call[0]));
  }

  it('refuses a generation claimed for another node far in the future: node-b keeps its real one, stays up and served', async () => {
    const skew = a.app.get<ResolvedElasticaOptions>(ELASTICA_OPTIONS).gossip.maxGenerationSkewMs;
    const realGeneration = gossipOf(b).member('node-b')!.generation;
    expect(gossipOf(a).member('node-b')!.generation).toBe(realGeneration);
    const future = Date.now() + 10 * skew;
    const futureRef = incarnationRef('node-b', future);
    const identity = { id: 'node-b', address: b.address, generation: future };
    const refusedAtA = gossipOf(a).stats.refusedGenerations;
    const refusedAtB = gossipOf(b).stats.refusedGenerations;
    const warningsOfA = spyWarnings(a);
    forge = (message, bRef) =>
      rewriteAboutB(
        message,
        bRef,
        (entry) => ({ ref: futureRef, version: entry.version }),
        (delta) => ({ ref: futureRef, identity, items: delta?.items.length ? delta.items : [heartbeatItem(1)] }),
      );

    // The forgery went out, to both the bystander and node-b itself, and was refused (and counted) by both.
    await until(
      'five forgeries sent to each of node-a and node-b',
      () => forgedCount(a) >= 5 && forgedCount(b) >= 5,
      15_000,
      50,
    );
    await until(
      'three more refused generations at node-a and node-b',
      () =>
        gossipOf(a).stats.refusedGenerations >= refusedAtA + 3 &&
        gossipOf(b).stats.refusedGenerations >= refusedAtB + 3,
      15_000,
      50,
    );

    for (const viewer of [a, b, evil]) {
      const seen = gossipOf(viewer).member('node-b')!;
      expect(seen.generation).toBe(realGeneration);
      expect(seen.status).toBe('up');
    }
    expect(gossipOf(b).stats.refutations).toBe(0);
    expect(await firstValueFrom(a.client.send('node-b', 'echo', 1))).toEqual({
      data: 1,
      sender: 'node-a',
      pattern: 'echo',
    });
    expect(await firstValueFrom(b.client.send('node-a', 'echo', 2))).toEqual({
      data: 2,
      sender: 'node-b',
      pattern: 'echo',
    });
    // Many refusals, one line in the log (the count is in the stats).
    const refusalLines = warningsOfA().filter((line) => line.includes('refused'));
    expect(refusalLines).toHaveLength(1);
    expect(refusalLines[0]).toContain('node-b');
    expect(refusalLines[0]).toContain('maxGenerationSkewMs');
  }, 60_000);

  it("refuses absurd versions claimed for another node: they do not freeze its state, node-b's next set() still arrives", async () => {
    const realGeneration = gossipOf(b).member('node-b')!.generation;
    const refusedAtA = gossipOf(a).stats.refusedVersions;
    const refusedAtB = gossipOf(b).stats.refusedVersions;
    const absurd = Number.MAX_SAFE_INTEGER;
    forge = (message, bRef) =>
      rewriteAboutB(
        message,
        bRef,
        (entry) => ({ ref: entry.ref, version: absurd }),
        (delta) => {
          const items = delta?.items.length ? delta.items : [heartbeatItem(1)];
          // versions must increase within a delta: the last item takes 2^53 - 1, the ones before it just below
          return {
            ref: bRef,
            identity: delta?.identity,
            items: items.map((item, i) => ({ ...item, version: absurd - (items.length - 1 - i) })),
          };
        },
      );
    await until(
      'five forgeries sent to each of node-a and node-b',
      () => forgedCount(a) >= 5 && forgedCount(b) >= 5,
      15_000,
      50,
    );
    await until(
      'three more refused versions at node-a and node-b',
      () => gossipOf(a).stats.refusedVersions >= refusedAtA + 3 && gossipOf(b).stats.refusedVersions >= refusedAtB + 3,
      15_000,
      50,
    );

    gossipOf(b).set('probe', 'after-forgery');
    await until(
      "node-a to learn node-b's probe",
      () => gossipOf(a).get('node-b', 'probe') === 'after-forgery',
      10_000,
      50,
    );
    const forgedBeforeProbe = forgedCount(a);
    // Still forging while the probe travelled, and node-a's view of node-b never took the absurd version.
    await until('another forgery to node-a after the probe', () => forgedCount(a) > forgedBeforeProbe, 10_000, 50);
    for (const viewer of [a, b]) {
      const seen = gossipOf(viewer).member('node-b')!;
      expect(seen.generation).toBe(realGeneration);
      expect(seen.status).toBe('up');
      expect(seen.heartbeat).toBeLessThan(absurd - 1000);
    }
    expect(gossipOf(b).stats.refutations).toBe(0);
    expect(await firstValueFrom(a.client.send('node-b', 'echo', 3))).toEqual({
      data: 3,
      sender: 'node-a',
      pattern: 'echo',
    });
  }, 60_000);

  it("bounds the state a member claims: past gossip.mtuBytes a message is dropped unread, past gossip.maxStateBytes a node's state is refused; the cluster keeps converging", async () => {
    // The local API refuses at once, naming the option.
    expect(() => gossipOf(evil).set('blob', 'x'.repeat(2 * 1024 * 1024))).toThrow(/"blob".*gossip\.mtuBytes/);
    const { maxStateBytes, mtuBytes } = a.app.get<ResolvedElasticaOptions>(ELASTICA_OPTIONS).gossip;
    const generation = Date.now();
    const phantom = { id: 'node-phantom', address: '127.0.0.1:9', generation };
    const phantomRef = incarnationRef(phantom.id, generation);
    const value = (c: string): string => c.repeat(Math.floor(maxStateBytes / 4));
    const stats = (): GossipService['stats'] => ({ ...gossipOf(a).stats });
    /** evil appends `delta` to every ack and ack2 it sends, as a member relaying a node's state would. */
    const attach = (delta: Delta): void => {
      forge = (message) => {
        if (message.type !== 'ack' && message.type !== 'ack2') return false;
        message.deltas.push(delta);
        return true;
      };
    };
    const quarters = (from: number, chars: string): Item[] =>
      [...chars].map((c, i) => ({ version: from + i, key: `k${from + i}`, value: value(c) }));

    // Three quarters of the bound, then six: taken, as an honest node's state would be (a receiver
    // allows twice the bound: a delta cut by the MTU can leave it with a node's old and new values).
    attach({ ref: phantomRef, identity: phantom, items: [heartbeatItem(1), ...quarters(2, 'abc')] });
    await until("node-a to hold the phantom's k4", () => gossipOf(a).get(phantom.id, 'k4') !== undefined, 15_000, 50);
    attach({ ref: phantomRef, items: quarters(5, 'def') });
    await until("node-a to hold the phantom's k7", () => gossipOf(a).get(phantom.id, 'k7') !== undefined, 15_000, 50);

    // Three more quarters would pass twice maxStateBytes: refused whole, again and again, and counted.
    const before = stats();
    forgedTo = new Map();
    attach({ ref: phantomRef, items: quarters(8, 'ghi') });
    await until(
      'five forgeries to node-a and three more refused states',
      () => forgedCount(a) >= 5 && gossipOf(a).stats.refusedState >= before.refusedState + 3,
      15_000,
      50,
    );
    for (const key of ['k8', 'k9', 'k10']) expect(gossipOf(a).get(phantom.id, key)).toBeUndefined();

    // A message longer than the MTU (three values of 700 KB) is dropped before it is read.
    const flood = { id: 'node-flood', address: '127.0.0.1:10', generation };
    const huge = (c: string): string => c.repeat(700 * 1024);
    const floodAt = stats();
    forgedTo = new Map();
    attach({
      ref: incarnationRef(flood.id, generation),
      identity: flood,
      items: [heartbeatItem(1), ...['e', 'f', 'g'].map((c, i) => ({ version: i + 2, key: `big${i}`, value: huge(c) }))],
    });
    await until(
      'three more oversized messages refused at node-a',
      () => gossipOf(a).stats.refusedOversized >= floodAt.refusedOversized + 3,
      15_000,
      50,
    );
    expect(3 * 700 * 1024).toBeGreaterThan(mtuBytes);
    expect(gossipOf(a).member(flood.id)).toBeUndefined();
    forge = undefined;

    // Meanwhile the honest nodes' news and calls go through.
    gossipOf(b).set('small', 'ok');
    await until("node-a to learn node-b's small key", () => gossipOf(a).get('node-b', 'small') === 'ok', 10_000, 50);
    expect(await firstValueFrom(a.client.send('node-b', 'echo', 4))).toEqual({
      data: 4,
      sender: 'node-a',
      pattern: 'echo',
    });
    expect(gossipOf(b).member('node-a')?.status).toBe('up');
    expect(gossipOf(a).stats.malformed).toBe(floodAt.malformed);
  }, 60_000);

  // ---- floods: thousands of refused claims, straight from evil's connection -----------------------
  //
  // The forged gossip above shows each claim refused; these show the refusals cost nothing that grows.
  // Every node and the attacker live in this one process, so the RSS measured is all of them: the
  // floods are sized so that keeping what they claim (FLOOD x VALUE_CHARS, 300 MB) would pass the
  // ceiling twice over, while refusing it leaves only garbage the young generation collects (measured:
  // 0-81 MiB of growth; with the checks that refuse a flood disabled, tried for each flood, the
  // ceiling is passed within ~1,000 messages, and the flood stops there). Each flood hits a fresh
  // node, whose refusal log (the first line, then one a minute, whatever the kind) has not spoken
  // yet, so "one line" is exact.

  const FLOOD = 5000;
  /** A value that keeps every flood message under gossip.mtuBytes (65,000), so it is read, not dropped unread. */
  const VALUE_CHARS = 60_000;
  const RSS_CEILING = 144 * 1024 * 1024;

  /** A fresh member, up in everyone's view, its warnings recorded from the start. */
  async function freshVictim(id: string): Promise<{ victim: TestNode; warnings: () => string[] }> {
    const victim = await startTrackedNode(id, { ...opts, seeds: [a.address] }, [TestHandlers]);
    const warnings = spyWarnings(victim);
    await until(
      'the fresh victim and the others up for each other',
      () =>
        ['node-a', 'node-b', 'node-evil'].every((peer) => gossipOf(victim).member(peer)?.status === 'up') &&
        [a, b, evil].every((peer) => gossipOf(peer).member(id)?.status === 'up'),
      15_000,
      50,
    );
    return { victim, warnings };
  }

  /** evil's header: its incarnation and current heartbeat (what any message of its own carries). */
  function evilHeader(): MessageHeader {
    const self = gossipOf(evil).member('node-evil')!;
    return {
      senderRef: incarnationRef('node-evil', self.generation),
      senderHeartbeat: self.heartbeat,
      receiverRef: 0,
      receiverVersion: 0,
    };
  }

  /**
   * evil sends `count` messages (`message(i)`) straight to `victim`, in waves the victim is let to read
   * before the next (so none is lost to rpc.maxQueueBytes), while node-b calls the victim back to back
   * (every call must succeed). Returns the RSS growth: peak during the flood minus the RSS before it.
   */
  async function flood(
    victim: TestNode,
    count: number,
    message: (i: number) => Uint8Array,
  ): Promise<{ rssGrowth: number; calls: { ok: number; failed: unknown[] } }> {
    const channel = evil.app.get<GossipChannel>(GOSSIP_CHANNEL);
    const received = (): number => gossipOf(victim).stats.messagesReceived;
    const calls = { ok: 0, failed: [] as unknown[] };
    let calling = true;
    const caller = (async () => {
      while (calling) {
        try {
          await firstValueFrom(b.client.send(victim.id, 'echo', calls.ok));
          calls.ok++;
        } catch (error) {
          calls.failed.push(error);
        }
      }
    })();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const wave = 50;
    const start = received();
    try {
      for (let sent = 0; sent < count;) {
        for (const end = Math.min(count, sent + wave); sent < end; sent++) channel.send(victim.address, message(sent));
        // at most two waves in flight (6-10 MB, under rpc.maxQueueBytes); other gossip only makes it wait less
        await until('the wave received', () => received() - start >= sent - wave, 15_000, 5);
        // past the ceiling the test has failed: stop before a store that keeps it all takes the process down
        if (process.memoryUsage().rss - baseline > RSS_CEILING) break;
      }
      await until(
        'the whole flood received, or the RSS ceiling passed',
        () => received() - start >= count || process.memoryUsage().rss - baseline > RSS_CEILING,
        15_000,
        5,
      );
    } finally {
      clearInterval(sampler);
      calling = false;
      await caller;
    }
    peak = Math.max(peak, process.memoryUsage().rss);
    return { rssGrowth: peak - baseline, calls };
  }

  const ack2 = (delta: Delta): Uint8Array => encodeMessage({ type: 'ack2', header: evilHeader(), deltas: [delta] });
  const blob = (i: number): string => String(i).padStart(8, '0') + 'x'.repeat(VALUE_CHARS - 8);

  /** After a flood: the victim still hears node-b's news, and serves it; nothing it refused was kept. */
  async function stillServing(victim: TestNode, probe: string): Promise<void> {
    gossipOf(b).set('probe', probe);
    await until(
      "the victim to learn node-b's probe",
      () => gossipOf(victim).get('node-b', 'probe') === probe,
      10_000,
      50,
    );
    expect(await firstValueFrom(b.client.send(victim.id, 'echo', probe))).toEqual({
      data: probe,
      sender: 'node-b',
      pattern: 'echo',
    });
    for (const peer of ['node-a', 'node-b', 'node-evil']) expect(gossipOf(victim).member(peer)?.status).toBe('up');
  }

  function report(name: string, rssGrowth: number): void {
    if (process.env.ELASTICA_REPORT)
      process.stdout.write(`rss growth under ${name} flood: ${Math.round(rssGrowth / 1048576)} MiB\n`);
  }

  /** A phantom member evil introduces to `victim` with a plausible generation and `items`; returns its ref. */
  async function introduce(victim: TestNode, id: string, items: Item[]): Promise<number> {
    const generation = gossipOf(evil).member('node-evil')!.generation;
    const ref = incarnationRef(id, generation);
    evil.app
      .get<GossipChannel>(GOSSIP_CHANNEL)
      .send(victim.address, ack2({ ref, identity: { id, address: '127.0.0.1:9', generation }, items }));
    await until(
      'the victim to hold the first heartbeat of the new member',
      () => gossipOf(victim).member(id)?.heartbeat === 1,
      10_000,
      20,
    );
    return ref;
  }

  /** The refusal lines of a flood: one (the first refusal), naming its subject and reason, counting that one. */
  function expectLoggedOnce(warnings: () => string[], subject: string, reason: string, counted: string): void {
    const lines = warnings().filter((line) => line.includes('refused'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(subject);
    expect(lines[0]).toContain(reason);
    expect(lines[0]).toContain(`refused so far: ${counted}`);
  }

  it(`refuses ${FLOOD} absurd versions, each a new key of ${VALUE_CHARS} bytes: each counted, one log line, memory bounded, the victim serving throughout`, async () => {
    const { victim, warnings } = await freshVictim('node-v');
    const ghostRef = await introduce(victim, 'node-ghost', [heartbeatItem(1)]);
    const refused = (): number => gossipOf(victim).stats.refusedVersions;
    // 2^50 + i: far past what the ghost can have stamped, and increasing, so a store that took them would keep each one
    const { rssGrowth, calls } = await flood(victim, FLOOD, (i) =>
      ack2({ ref: ghostRef, items: [{ version: 2 ** 50 + i, key: `flood${i}`, value: blob(i) }] }),
    );
    report('version', rssGrowth);
    expect(rssGrowth).toBeLessThan(RSS_CEILING);

    await until('every version of the flood refused', () => refused() === FLOOD, 10_000, 20);
    expect(gossipOf(victim).member('node-ghost')!.state).toEqual({});
    expectLoggedOnce(warnings, 'node-ghost', 'more than its owner can have stamped', '0 generation(s), 1 version(s)');
    expect(calls.failed).toEqual([]);
    expect(calls.ok).toBeGreaterThan(0);
    await stillServing(victim, 'after-version-flood');
  }, 60_000);

  it(`refuses ${FLOOD} new nodes claimed with absurd generations, each with ${VALUE_CHARS} bytes of state: each counted, one log line, memory bounded`, async () => {
    const { victim, warnings } = await freshVictim('node-g');
    const skew = victim.app.get<ResolvedElasticaOptions>(ELASTICA_OPTIONS).gossip.maxGenerationSkewMs;
    const future = Date.now() + 10 * skew;
    const refused = (): number => gossipOf(victim).stats.refusedGenerations;
    const { rssGrowth, calls } = await flood(victim, FLOOD, (i) => {
      const id = `node-ghost-${i}`;
      return ack2({
        ref: incarnationRef(id, future),
        identity: { id, address: '127.0.0.1:9', generation: future },
        items: [heartbeatItem(1), { version: 2, key: 'blob', value: blob(i) }],
      });
    });
    report('generation', rssGrowth);
    expect(rssGrowth).toBeLessThan(RSS_CEILING);

    await until('every generation of the flood refused', () => refused() === FLOOD, 10_000, 20);
    expect(
      gossipOf(victim)
        .members()
        .filter((m) => m.id.startsWith('node-ghost-')),
    ).toEqual([]);
    expectLoggedOnce(warnings, 'node-ghost-0', 'gossip.maxGenerationSkewMs', '1 generation(s), 0 version(s)');
    expect(calls.failed).toEqual([]);
    await stillServing(victim, 'after-generation-flood');
  }, 60_000);

  it(`refuses ${FLOOD} claims past twice gossip.maxStateBytes, each a new key of ${VALUE_CHARS} bytes: each counted, one log line, memory bounded`, async () => {
    const { victim, warnings } = await freshVictim('node-s');
    const { maxStateBytes } = victim.app.get<ResolvedElasticaOptions>(ELASTICA_OPTIONS).gossip;
    // Two values: within twice the bound (what a receiver allows), with no room for a third.
    const heavyRef = await introduce(victim, 'node-heavy', [
      heartbeatItem(1),
      { version: 2, key: 'a', value: blob(0) },
    ]);
    evil.app
      .get<GossipChannel>(GOSSIP_CHANNEL)
      .send(victim.address, ack2({ ref: heavyRef, items: [{ version: 3, key: 'b', value: blob(1) }] }));
    await until(
      "the victim to hold node-heavy's b",
      () => gossipOf(victim).get('node-heavy', 'b') !== undefined,
      10_000,
      20,
    );
    expect(3 * VALUE_CHARS).toBeGreaterThan(2 * maxStateBytes);
    const refused = (): number => gossipOf(victim).stats.refusedState;
    const { rssGrowth, calls } = await flood(victim, FLOOD, (i) =>
      ack2({ ref: heavyRef, items: [{ version: 4 + i, key: `flood${i}`, value: blob(i) }] }),
    );
    report('state', rssGrowth);
    expect(rssGrowth).toBeLessThan(RSS_CEILING);

    await until('every state of the flood refused', () => refused() === FLOOD, 10_000, 20);
    expect(Object.keys(gossipOf(victim).member('node-heavy')!.state)).toEqual(['a', 'b']);
    expectLoggedOnce(
      warnings,
      'node-heavy',
      'more than twice gossip.maxStateBytes',
      '0 generation(s), 0 version(s), 0 verdict(s), 0 oversized message(s), 1 state(s)',
    );
    expect(calls.failed).toEqual([]);
    await stillServing(victim, 'after-state-flood');
  }, 60_000);

  it(`drops ${FLOOD} messages longer than gossip.mtuBytes unread, each a new node with 70,000 bytes of state: each counted, one log line, memory bounded`, async () => {
    const { victim, warnings } = await freshVictim('node-m');
    const { mtuBytes } = victim.app.get<ResolvedElasticaOptions>(ELASTICA_OPTIONS).gossip;
    const generation = gossipOf(evil).member('node-evil')!.generation;
    const big = 'y'.repeat(70_000);
    expect(big.length).toBeGreaterThan(mtuBytes);
    const refused = (): number => gossipOf(victim).stats.refusedOversized;
    // within twice gossip.maxStateBytes: read, each would be a new member holding its 70 KB
    const { rssGrowth, calls } = await flood(victim, FLOOD, (i) => {
      const id = `node-big-${i}`;
      return ack2({
        ref: incarnationRef(id, generation),
        identity: { id, address: '127.0.0.1:9', generation },
        items: [heartbeatItem(1), { version: 2, key: 'blob', value: String(i).padStart(8, '0') + big }],
      });
    });
    report('oversized', rssGrowth);
    expect(rssGrowth).toBeLessThan(RSS_CEILING);

    await until('every oversized message of the flood refused', () => refused() === FLOOD, 10_000, 20);
    expect(
      gossipOf(victim)
        .members()
        .filter((m) => m.id.startsWith('node-big-')),
    ).toEqual([]);
    expect(gossipOf(victim).stats.malformed).toBe(0);
    expectLoggedOnce(
      warnings,
      evil.address,
      'more than gossip.mtuBytes',
      '0 generation(s), 0 version(s), 0 verdict(s), 1 oversized message(s)',
    );
    expect(calls.failed).toEqual([]);
    await stillServing(victim, 'after-oversized-flood');
  }, 60_000);
});
