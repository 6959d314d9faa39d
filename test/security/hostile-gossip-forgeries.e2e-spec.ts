import 'reflect-metadata';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
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
} from 'elastica/testing';
import { closeStartedNodes, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';
import { gossipOf, heartbeatItem, spyWarnings, startHostileGossipCluster } from './hostile-gossip-cluster.js';

/**
 * Hostile gossip from a member (it holds the secret, so the transport lets it in): claims about
 * ANOTHER node (node-b) with absurd generations or versions, and oversized application state. The
 * evil node runs a real GossipService; the test bends every message it sends with the real codec
 * (decode, rewrite what concerns node-b, encode) and counts the forgeries, so a forging that does
 * nothing fails the test instead of letting it pass vacuously. Floods of each refused claim:
 * hostile-gossip-floods.e2e-spec.ts.
 */
describe('hostile gossip forged through a member', () => {
  let a: TestNode;
  let b: TestNode;
  let evil: TestNode;
  /** The current forgery (none: evil sends what its gossip produced) and what it sent, per receiver. */
  let forge: ((message: GossipMessage, bRef: number) => boolean) | undefined;
  let forgedTo = new Map<string, number>();

  beforeAll(async () => {
    ({ a, b, evil } = await startHostileGossipCluster());

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
});
