import type { AnnouncedStatus, ViewEntry } from 'elastica';
import { encodeVerdicts, incarnationRef, randomInt, SeededRandom, VERDICTS_KEY } from 'elastica/testing';
import { percentile, round } from './metrics.js';
import { Simulation, type SimNode, type SimOptions } from './simulation.js';

export type Progress = (line: string) => void;

/** Counts `down` verdicts against nodes that are alive and reachable: false convictions. */
export function watchFalseConvictions(sim: Simulation): { count: number; partitioned: boolean } {
  const watch = { count: 0, partitioned: false };
  sim.eventHooks.push((observer, event) => {
    if (event.type !== 'down' || !observer.alive) return;
    const target = sim.nodes[Number(event.nodeId.slice(5))];
    if (target && target.alive && target.group === observer.group && !watch.partitioned) watch.count++;
  });
  return watch;
}

/** Starts the cluster from its seeds and runs until every node sees every other up. */
export function warmUp(sim: Simulation, maxMs = 300_000): number | null {
  sim.start();
  return sim.runUntilTrue(() => sim.trueMembership(), sim.gossip.intervalMs, maxMs);
}

export interface ConvergenceResult {
  trials: number;
  completed: number;
  /** Gossip rounds (elapsed time / interval) for each change to reach every live node. */
  rounds: number[];
}

/**
 * Fresh changes: each round a random live node publishes a new value, and we time how long until
 * every live node holds that version (or newer). Up to `concurrent` trials run at once, on distinct owners.
 */
export function measureConvergence(
  sim: Simulation,
  trials: number,
  progress: Progress,
  concurrent = 8,
): ConvergenceResult {
  const interval = sim.gossip.intervalMs;
  const random = new SeededRandom(sim.options.seed ^ 0x5eed);
  interface Trial {
    owner: SimNode;
    version: number;
    startedAt: number;
    reached: Uint8Array;
    count: number;
    live: number;
  }
  const active = new Map<string, Trial>();
  const rounds: number[] = [];
  let started = 0;
  const finish = (trial: Trial): void => {
    rounds.push((sim.now - trial.startedAt) / interval);
    active.delete(trial.owner.id);
  };
  const complete = (trial: Trial): boolean => {
    for (const node of sim.nodes) if (node.alive && trial.reached[node.index] === 0) return false;
    return true;
  };
  sim.changeHooks.push((observer, change) => {
    const trial = active.get(change.nodeId);
    if (!trial || change.key !== 'sim.trial' || change.version < trial.version || trial.reached[observer.index] === 1)
      return;
    trial.reached[observer.index] = 1;
    if (++trial.count >= trial.live && complete(trial)) finish(trial);
  });
  const deadline = sim.now + (trials + 40) * interval * 4;
  const begun = sim.now;
  let lastReport = sim.now;
  while ((started < trials || active.size > 0) && sim.now < deadline) {
    if (started < trials && active.size < concurrent) {
      const live = sim.liveNodes().filter((node) => !active.has(node.id));
      const owner = live[randomInt(random, live.length)];
      const trial: Trial = {
        owner,
        version: 0,
        startedAt: sim.now,
        reached: new Uint8Array(sim.nodes.length),
        count: 1,
        live: sim.liveNodes().length,
      };
      trial.reached[owner.index] = 1;
      active.set(owner.id, trial);
      owner.core.set('sim.trial', `t${started}`, sim.now);
      trial.version = owner.core.versionOf(owner.id, 'sim.trial');
      started++;
    }
    sim.runFor(interval / concurrent + randomInt(random, Math.max(1, interval / concurrent)));
    if (sim.now - lastReport >= 10_000) {
      lastReport = sim.now;
      progress(
        `  convergence: ${rounds.length}/${trials} trials done after ${((sim.now - begun) / 1000).toFixed(0)} s, median so far ${round(percentile(rounds, 50), 1)} rounds`,
      );
    }
  }
  return { trials: started, completed: rounds.length, rounds };
}

export interface DetectionResult {
  crashed: number;
  /** Seconds from the crash to each (live observer, crashed node) `down` verdict. */
  delays: number[];
  undetected: number;
}

/** Crashes `count` random non-seed nodes at once and times every live node's verdict on each. */
export function measureDetection(sim: Simulation, count: number, maxMs: number, progress: Progress): DetectionResult {
  const random = new SeededRandom(sim.options.seed ^ 0xdead);
  const candidates = sim.liveNodes().filter((node) => !sim.seeds.includes(node.address));
  const victims = new Set<SimNode>();
  while (victims.size < Math.min(count, candidates.length))
    victims.add(candidates[randomInt(random, candidates.length)]);
  const crashedAt = sim.now;
  const victimIds = new Set([...victims].map((node) => node.id));
  const seen = new Set<string>();
  const delays: number[] = [];
  sim.eventHooks.push((observer, event) => {
    if (event.type !== 'down' || !victimIds.has(event.nodeId) || !observer.alive) return;
    const key = `${observer.index}>${event.nodeId}`;
    if (seen.has(key)) return;
    seen.add(key);
    delays.push((sim.now - crashedAt) / 1000);
  });
  for (const node of victims) sim.crash(node);
  const pairs = sim.liveNodes().length * victims.size;
  progress(`  crashed ${victims.size} node(s); waiting for ${pairs} verdicts`);
  sim.runUntilTrue(() => delays.length >= pairs, sim.gossip.intervalMs, maxMs);
  return { crashed: victims.size, delays, undetected: pairs - delays.length };
}

export interface PartitionResult {
  /** Seconds after healing until every node holds the same view with everyone up. */
  heal_s: number | null;
  /** Whether each side had convicted the other before healing. */
  sides_convicted: boolean;
}

/** Splits the cluster in two halves for `durationMs`, heals, and times the return to identical views. */
export function measurePartition(sim: Simulation, durationMs: number, maxHealMs: number): PartitionResult {
  const half = Math.floor(sim.nodes.length / 2);
  sim.partition((index) => (index < half ? 1 : 2));
  sim.runFor(durationMs);
  const a = sim.nodes[0];
  const b = sim.nodes[sim.nodes.length - 1];
  const sidesConvicted = a.core.statusOf(b.id) === 'down' && b.core.statusOf(a.id) === 'down';
  sim.heal();
  const healMs = sim.runUntilTrue(() => sim.identicalViews(), 100, maxHealMs);
  return { heal_s: healMs === null ? null : healMs / 1000, sides_convicted: sidesConvicted };
}

export interface StabilizeResult {
  /** Seconds from the corruption until every live node sees exactly the real members, all up. */
  stabilize_s: number | null;
  phantoms: number;
  refutations: number;
}

/**
 * Self-stabilization: replaces every node's view of the others with an arbitrary one (stale and
 * future generations and versions within the accepted bound, wrong statuses, wrong `down` verdicts,
 * phantom members that do not exist) and times the return to the true membership.
 */
export function measureStabilization(sim: Simulation, phantomPool: number, maxMs: number): StabilizeResult {
  const random = new SeededRandom(sim.options.seed ^ 0x57ab);
  const junk = new SeededRandom(sim.options.seed ^ 0x7e7d);
  const statuses: AnnouncedStatus[] = ['joining', 'up', 'leaving', 'left'];
  const skew = sim.gossip.maxGenerationSkewMs;
  const phantoms = Array.from({ length: phantomPool }, (_, k) => ({
    id: `ghost-${k}`,
    address: `192.0.2.${k % 250}:${7000 + Math.floor(k / 250)}`,
    generation: Math.floor(
      sim.now - random.next() * 86_400_000 + (random.next() < 0.3 ? random.next() * skew * 0.5 : 0),
    ),
  }));
  const pick = <T>(items: readonly T[]): T => items[randomInt(random, items.length)];
  for (const node of sim.liveNodes()) {
    const view: ViewEntry[] = [];
    for (const other of sim.nodes) {
      if (other === node || random.next() < 0.2) continue;
      const real = other.core.generation;
      const roll = random.next();
      const generation =
        roll < 0.6
          ? real
          : roll < 0.8
            ? real - 1 - randomInt(random, 1_000_000)
            : Math.floor(real + 1 + random.next() * skew * 0.5);
      const heartbeat = randomInt(random, Math.max(2, other.core.heartbeat * 2));
      const state: NonNullable<ViewEntry['state']> =
        random.next() < 0.5 ? { 'sim.junk': { value: `x${randomInt(random, 100)}`, version: heartbeat + 1 } } : {};
      // Wrong verdicts too (stale, current or future heartbeats of real nodes), from a random stream of their own.
      if (junk.next() < 0.3) {
        const accused = Array.from(
          { length: 1 + randomInt(junk, 3) },
          () => sim.nodes[randomInt(junk, sim.nodes.length)].core,
        );
        const value = encodeVerdicts(
          accused.map((core) => ({
            ref: incarnationRef(core.id, core.generation),
            heartbeat: 1 + randomInt(junk, core.heartbeat * 2 + 60),
          })),
        );
        state[VERDICTS_KEY] = { value, version: heartbeat + 2 };
      }
      view.push({
        id: other.id,
        address: other.address,
        generation,
        heartbeat,
        status: pick(statuses),
        down: random.next() < 0.3,
        state,
      });
    }
    for (const phantom of phantoms) {
      if (random.next() < 0.5) continue;
      view.push({
        ...phantom,
        heartbeat: randomInt(random, 1000) + 1,
        status: pick(statuses),
        down: random.next() < 0.3,
      });
    }
    node.core.loadView(view, sim.now);
  }
  const tookMs = sim.runUntilTrue(() => sim.trueMembership(), sim.gossip.intervalMs, maxMs);
  const refutations = sim.nodes.reduce((sum, node) => sum + node.core.stats.refutations, 0);
  return { stabilize_s: tookMs === null ? null : tookMs / 1000, phantoms: phantomPool, refutations };
}

export type { SimOptions };
