import { describe, expect, it } from '@jest/globals';
import type { MembershipEvent } from 'elastica';
import { decodeMessage, encodeMessage } from 'elastica/testing';
import {
  measureDetection,
  measurePartition,
  measureStabilization,
  warmUp,
  watchFalseConvictions,
} from './scenarios.js';
import { Simulation, type SimNode } from './simulation.js';

// The simulator's scenarios at small N on the virtual clock: each runs in well under a second.
const quiet = (): void => {};

function events(sim: Simulation): { observer: string; event: MembershipEvent }[] {
  const log: { observer: string; event: MembershipEvent }[] = [];
  sim.eventHooks.push((observer, event) => log.push({ observer: observer.id, event }));
  return log;
}

describe('simulated cluster (virtual clock)', () => {
  it('forms from its seeds, spreads a change to everyone, and is deterministic for a seed', () => {
    const run = (): string => {
      const sim = new Simulation({ nodes: 30, seed: 7, loss: 0.05, jitterMs: 50 });
      expect(warmUp(sim, 60_000)).not.toBeNull();
      sim.nodes[3].core.set('color', 'blue', sim.now);
      const took = sim.runUntilTrue(
        () => sim.nodes.every((n) => n.core.get('node-3', 'color') === 'blue'),
        100,
        30_000,
      );
      expect(took).not.toBeNull();
      return JSON.stringify([took, sim.now, sim.nodes.map((n) => [n.core.generation, n.core.heartbeat, n.bytesSent])]);
    };
    expect(run()).toBe(run());
  });

  it('convicts a crashed node everywhere within 20 s, and convicts nobody else', () => {
    const sim = new Simulation({ nodes: 20, seed: 3, loss: 0.05, jitterMs: 100 });
    const falseConvictions = watchFalseConvictions(sim);
    expect(warmUp(sim, 60_000)).not.toBeNull();
    sim.runFor(70_000); // past the probation of young detectors
    const detection = measureDetection(sim, 2, 60_000, quiet);
    expect(detection.undetected).toBe(0);
    expect(Math.max(...detection.delays)).toBeLessThan(20);
    expect(falseConvictions.count).toBe(0);
  });

  it('heals a 5/5 partition of 10 nodes held for 60 s into identical views within 12 s', () => {
    const sim = new Simulation({ nodes: 10, seed: 11, latencyMs: 5, jitterMs: 20 });
    expect(warmUp(sim, 60_000)).not.toBeNull();
    sim.runFor(10_000);
    const result = measurePartition(sim, 60_000, 60_000);
    expect(result.sides_convicted).toBe(true);
    expect(result.heal_s).not.toBeNull();
    expect(result.heal_s!).toBeLessThanOrEqual(12);
  });

  it('self-stabilizes from arbitrary views: phantoms convicted and expired, every real node up', () => {
    const sim = new Simulation({ nodes: 10, seed: 5, gossip: { downExpiryMs: 20_000, tombstoneTtlMs: 20_000 } });
    expect(warmUp(sim, 60_000)).not.toBeNull();
    sim.runFor(5_000);
    const result = measureStabilization(sim, 6, 180_000);
    expect(result.stabilize_s).not.toBeNull();
    // Bound: conviction of a never-heard phantom (~13 rounds) + downExpiryMs + a few rounds of spread.
    expect(result.stabilize_s!).toBeLessThan(60);
    for (const node of sim.nodes) expect([...node.core.nodeIds()].every((id) => id.startsWith('node-'))).toBe(true);
  });

  it('recognises a restart: new generation replaces the state, event restarted, and the node is up again', () => {
    const sim = new Simulation({ nodes: 8, seed: 9 });
    const log = events(sim);
    expect(warmUp(sim, 60_000)).not.toBeNull();
    const node = sim.nodes[5];
    node.core.set('k', 'old', sim.now);
    sim.runFor(5_000);
    const oldGeneration = node.core.generation;
    sim.crash(node);
    sim.runFor(30_000); // long enough to be convicted
    expect(sim.nodes[0].core.statusOf(node.id)).toBe('down');
    sim.restart(node);
    node.core.set('k', 'new', sim.now);
    expect(sim.runUntilTrue(() => sim.trueMembership(), 100, 30_000)).not.toBeNull();
    for (const other of sim.liveNodes()) {
      if (other === node) continue;
      expect(other.core.generationOf(node.id)).toBeGreaterThan(oldGeneration);
      expect(other.core.get(node.id, 'k')).toBe('new');
      expect(
        log.some((e) => e.observer === other.id && e.event.type === 'restarted' && e.event.nodeId === node.id),
      ).toBe(true);
    }
  });

  it('a one-way partition never marks a down node up on third-party gossip alone', () => {
    const sim = new Simulation({ nodes: 6, seed: 13 });
    expect(warmUp(sim, 60_000)).not.toBeNull();
    sim.runFor(40_000);
    const [a, x] = [sim.nodes[0], sim.nodes[4]];
    sim.partition((i) => (i === 4 ? 2 : 1)); // x cut off from everyone
    sim.runFor(30_000);
    expect(a.core.statusOf(x.id)).toBe('down');
    sim.heal();
    sim.block(x, a); // a can reach x, x can never reach a
    const othersSeeItUp = (): boolean => sim.nodes.every((n) => n === a || n === x || n.core.statusOf(x.id) === 'up');
    expect(sim.runUntilTrue(othersSeeItUp, 100, 30_000)).not.toBeNull();
    sim.runFor(60_000);
    expect(a.core.member(x.id)!.heartbeat).toBeGreaterThan(0);
    expect(a.core.statusOf(x.id)).toBe('down'); // third parties relay its heartbeats, but a never hears x itself
    sim.unblock(x, a);
    expect(sim.runUntilTrue(() => a.core.statusOf(x.id) === 'up', 100, 10_000)).not.toBeNull();
  });

  it('a restarted node marks nobody up that it has only heard of third-hand, nor is marked up so', () => {
    const sim = new Simulation({ nodes: 6, seed: 21 });
    expect(warmUp(sim, 60_000)).not.toBeNull();
    sim.runFor(10_000);
    // The chaos suite's one-way scenario: v restarts with empty memory while its packets never reach
    // blind and mute's never reach v. The others relay everything, so news flows all round.
    const [v, blind, mute] = [sim.nodes[5], sim.nodes[1], sim.nodes[2]];
    sim.crash(v);
    sim.runFor(30_000);
    expect(blind.core.statusOf(v.id)).toBe('down');
    sim.block(v, blind);
    sim.block(mute, v);
    sim.restart(v);
    const news = (): boolean =>
      blind.core.generationOf(v.id) === v.core.generation &&
      v.core.generationOf(mute.id) !== undefined &&
      v.core.generationOf(blind.id) !== undefined;
    expect(sim.runUntilTrue(news, 100, 30_000)).not.toBeNull();
    sim.runFor(20_000);
    expect(blind.core.statusOf(v.id)).toBe('down');
    expect(v.core.statusOf(mute.id)).toBe('down');
    // Where messages do arrive (blind -> v, a relay -> v), v has heard the sender itself: up.
    expect(v.core.statusOf(blind.id)).toBe('up');
    expect(v.core.statusOf(sim.nodes[0].id)).toBe('up');
    sim.unblock(v, blind);
    sim.unblock(mute, v);
    expect(sim.runUntilTrue(() => sim.trueMembership(), 100, 30_000)).not.toBeNull();
  });

  it('leave: leaving then left everywhere, never resurrected by old gossip, and a comeback joins as new', () => {
    const sim = new Simulation({ nodes: 8, seed: 17, gossip: { tombstoneTtlMs: 60_000, leaveTimeoutMs: 10_000 } });
    const log = events(sim);
    expect(warmUp(sim, 60_000)).not.toBeNull();
    const node = sim.nodes[6];
    // Old gossip to replay later: the whole state the node gave a stranger while it was up.
    const stranger = { senderRef: 1, senderHeartbeat: 1, receiverRef: 0, receiverVersion: 0 };
    const [oldNews] = node.core.receive(
      '10.9.9.9:7000',
      encodeMessage({ type: 'syn', header: stranger, complete: true, digests: [] }),
      sim.now,
    );
    const old = decodeMessage(oldNews.bytes);
    expect(
      old.type === 'ack' &&
        old.deltas.some(
          (d) => d.identity?.id === node.id && d.items.some((i) => i.key === undefined && i.status === 'up'),
        ),
    ).toBe(true);
    node.core.leave(sim.now);
    expect(sim.runUntilTrue(() => node.core.phase === 'done', 100, 15_000)).not.toBeNull();
    sim.crash(node);
    const others = sim.liveNodes();
    expect(
      sim.runUntilTrue(() => others.every((n) => n.core.statusOf(node.id) === 'left'), 100, 10_000),
    ).not.toBeNull();
    for (const other of others) {
      const mine = log.filter((e) => e.observer === other.id && e.event.nodeId === node.id).map((e) => e.event.type);
      expect(mine).toContain('leaving');
      expect(mine).toContain('left');
      expect(mine).not.toContain('down');
    }
    // The old news arrives late (from the node's own address, as a delayed packet would): still left.
    for (const other of others) other.core.receive(node.address, oldNews.bytes, sim.now);
    sim.runFor(30_000);
    expect(others.every((n) => n.core.statusOf(node.id) === 'left')).toBe(true);
    sim.runFor(40_000); // past the tombstone
    expect(others.every((n) => n.core.statusOf(node.id) === undefined)).toBe(true);
    // And again once the tombstone is gone: the dropped incarnation stays dropped.
    for (const other of others) other.core.receive(node.address, oldNews.bytes, sim.now);
    sim.runFor(5_000);
    expect(others.every((n) => n.core.statusOf(node.id) === undefined)).toBe(true);
    sim.restart(node);
    expect(sim.runUntilTrue(() => sim.trueMembership(), 100, 30_000)).not.toBeNull();
  });

  it('a node that reaches no seed keeps retrying with a growing backoff, and says so', () => {
    const sim = new Simulation({ nodes: 4, seed: 19, gossip: { seedRetryMinMs: 1000, seedRetryMaxMs: 8000 } });
    sim.start();
    for (const seed of sim.nodes.slice(0, 3)) sim.crash(seed); // the seeds never come up
    const lonely: SimNode = sim.nodes[3];
    sim.runFor(60_000);
    const notes = sim.notices.filter((n) => n.startsWith(`${lonely.id}:`));
    expect(notes.length).toBeGreaterThan(3);
    expect(notes.some((n) => /next attempt in 8000 ms/.test(n))).toBe(true);
    expect(notes.length).toBeLessThan(15); // backoff: far fewer than one attempt a second
    expect(lonely.core.statusOf(lonely.id)).toBe('joining');
  });
});
