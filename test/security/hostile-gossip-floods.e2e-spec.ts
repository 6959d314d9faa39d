import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { ELASTICA_OPTIONS, type ResolvedElasticaOptions } from 'elastica';
import {
  encodeMessage,
  GOSSIP_CHANNEL,
  incarnationRef,
  type Delta,
  type GossipChannel,
  type Item,
  type MessageHeader,
} from 'elastica/testing';
import { TestHandlers } from '../transport/handlers.js';
import { closeStartedNodes, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';
import { gossipOf, heartbeatItem, opts, spyWarnings, startHostileGossipCluster } from './hostile-gossip-cluster.js';

/**
 * Floods of hostile gossip from a member: thousands of each kind of refused claim sent straight from
 * evil's connection to a fresh node, each counted, logged once, and held under an RSS ceiling.
 *
 * The forged gossip of hostile-gossip-forgeries.e2e-spec.ts shows each claim refused; these show the
 * refusals cost nothing that grows.
 *
 * Every node and the attacker live in this one process, so the RSS measured is all of them: the
 * floods are sized so that keeping what they claim (FLOOD x VALUE_CHARS, 300 MB) would pass the
 * ceiling twice over, while refusing it leaves only garbage the young generation collects (measured:
 * 0-81 MiB of growth; with the checks that refuse a flood disabled, tried for each flood, the
 * ceiling is passed within ~1,000 messages, and the flood stops there). Each flood hits a fresh
 * node, whose refusal log (the first line, then one a minute, whatever the kind) has not spoken
 * yet, so "one line" is exact.
 */
describe('hostile gossip flooded by a member', () => {
  let a: TestNode;
  let b: TestNode;
  let evil: TestNode;

  beforeAll(async () => {
    ({ a, b, evil } = await startHostileGossipCluster());
  }, 40_000);
  afterAll(closeStartedNodes);

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
   * (every call must succeed). `landed` counts the flood's own messages at the victim (the refusal
   * counter of its kind): counting every message received would let the victim's ordinary gossip stand
   * in for flood messages still queued, and under load the queue then overflowed and dropped some.
   * Returns the RSS growth: peak during the flood minus the RSS before it.
   */
  async function flood(
    victim: TestNode,
    count: number,
    message: (i: number) => Uint8Array,
    landed: () => number,
  ): Promise<{ rssGrowth: number; calls: { ok: number; failed: unknown[] } }> {
    const channel = evil.app.get<GossipChannel>(GOSSIP_CHANNEL);
    const calls = { ok: 0, failed: [] as unknown[] };
    let calling = true;
    const caller = (async () => {
      while (calling) {
        try {
          await firstValueFrom(b.client.send(victim.id, 'echo', calls.ok));
          calls.ok++;
        } catch (error) {
          calls.failed.push(error);
          // A send to a peer in its redial back-off fails at once: without a pause this loop would spin
          // on microtasks alone, starve the timers that end it, and fill the heap with errors.
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    })();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const wave = 50;
    const start = landed();
    try {
      for (let sent = 0; sent < count;) {
        for (const end = Math.min(count, sent + wave); sent < end; sent++) channel.send(victim.address, message(sent));
        // at most two waves in flight (6-10 MB, under rpc.maxQueueBytes)
        await until('the wave received', () => landed() - start >= sent - wave, 15_000, 5);
        // past the ceiling the test has failed: stop before a store that keeps it all takes the process down
        if (process.memoryUsage().rss - baseline > RSS_CEILING) break;
      }
      await until(
        'the whole flood received, or the RSS ceiling passed',
        () => landed() - start >= count || process.memoryUsage().rss - baseline > RSS_CEILING,
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
    const { rssGrowth, calls } = await flood(
      victim,
      FLOOD,
      (i) => ack2({ ref: ghostRef, items: [{ version: 2 ** 50 + i, key: `flood${i}`, value: blob(i) }] }),
      refused,
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
    const { rssGrowth, calls } = await flood(
      victim,
      FLOOD,
      (i) => {
        const id = `node-ghost-${i}`;
        return ack2({
          ref: incarnationRef(id, future),
          identity: { id, address: '127.0.0.1:9', generation: future },
          items: [heartbeatItem(1), { version: 2, key: 'blob', value: blob(i) }],
        });
      },
      refused,
    );
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
    const { rssGrowth, calls } = await flood(
      victim,
      FLOOD,
      (i) => ack2({ ref: heavyRef, items: [{ version: 4 + i, key: `flood${i}`, value: blob(i) }] }),
      refused,
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
    const { rssGrowth, calls } = await flood(
      victim,
      FLOOD,
      (i) => {
        const id = `node-big-${i}`;
        return ack2({
          ref: incarnationRef(id, generation),
          identity: { id, address: '127.0.0.1:9', generation },
          items: [heartbeatItem(1), { version: 2, key: 'blob', value: String(i).padStart(8, '0') + big }],
        });
      },
      refused,
    );
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
