import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { GossipNode, type Outgoing } from './gossip-node.js';
import { cluster, clusterNode, T0 } from './testing/gossip-cluster.js';
import { decodeMessage } from './wire/codec.js';
import { incarnationRef } from './wire/incarnation.js';
import type { DigestEntry, GossipMessage } from './wire/messages.js';

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
});
