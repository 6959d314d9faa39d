// Join waves: nodes arrive in waves onto real gossip cores, each driving the library's TokenPlanner
// (the same core PartitionerService drives), and we measure how fast every node holds one ring of
// every node, how balanced it is, and how much of the key space an observer's ring moved on the way.
import {
  diffRings,
  LOAD_KEY,
  movedFraction,
  REPLACES_KEY,
  TOKEN_SPACE,
  TOKENS_KEY,
  TokenPlanner,
  TokenRing,
  tokenOf,
  type PlannerMember,
} from 'elastica';
import { decodeTokens, HANDBACK_PREFIX, isJoining, JOIN_KEY, ringOfView, type CohortCache } from 'elastica/testing';
import { round } from './metrics.js';
import type { Progress } from './scenarios.js';
import type { SimNode, Simulation } from './simulation.js';

export interface JoinWaveOptions {
  /** Nodes started together first (0: the first wave is the first nodes). */
  initial: number;
  /** Nodes per later wave, until the simulation's node count. */
  wave: number;
  /** A wave's nodes start within this long. */
  spreadMs: number;
  vnodes: number;
  /** Give up on a wave after this long. */
  maxWaveMs: number;
  /** The planner's delays (defaults: the library's). */
  choiceDelayMs?: number;
  settleMs?: number;
}

export interface WaveResult {
  size: number;
  nodes_after: number;
  /** Gossip rounds from the wave's last start until every live node sees every live node up. */
  rounds_to_all_up: number | null;
  /** ... until every live node holds the same ring, of every live node. */
  rounds_to_agreed_ring: number | null;
  /** ... until, besides, every joiner's tokens are settled (published, final). */
  rounds_to_settled: number | null;
  max_over_mean: number;
  min_over_mean: number;
  /** Times the joiners' plan inputs changed after they started owning their part (summed). */
  replans: number;
  /**
   * Key space that changed owner in one observer's ring (the first node, or for the first wave the
   * first joiner) during the wave, over the wave's fair share W / N: 1 is the least a join can move.
   * Null for the first wave of a cluster (there is nothing to move).
   */
  moved_over_ideal: number | null;
}

/** One TokenPlanner per simulated node, stepped on the virtual clock. */
export class SimPlanners {
  readonly planners = new Map<number, TokenPlanner>();
  private readonly cache: CohortCache = new Map();
  private readonly decoded = new Map<string, number[]>();
  /** A hash per gossiped text (V8 keeps a string's own hash, so each lookup is cheap). */
  private readonly textHashes = new Map<string, number>();
  /** Settled planners step again only when a node restarted (handbacks): see attach. */
  private readonly dirty = new Set<number>();
  private readonly stepMs: number;

  constructor(
    private readonly sim: Simulation,
    private readonly vnodes: number,
    private readonly delays: { choiceDelayMs?: number; settleMs?: number } = {},
  ) {
    this.stepMs = Math.max(20, Math.min(500, sim.gossip.intervalMs / 2));
    sim.eventHooks.push((observer, event) => {
      if (event.type === 'restarted') this.dirty.add(observer.index);
    });
  }

  attach(node: SimNode): void {
    const planner = new TokenPlanner({
      nodeId: node.id,
      vnodes: this.vnodes,
      intervalMs: this.sim.gossip.intervalMs,
      lone: false,
      cache: this.cache,
      ...this.delays,
    });
    this.planners.set(node.index, planner);
    const run = node.run;
    const step = (): void => {
      if (!node.alive || node.run !== run) {
        if (!node.started) this.sim.at(this.sim.now + this.stepMs, step);
        return;
      }
      // A settled planner only serves handbacks and re-picks colliding tokens; collisions need a
      // partition, which waves do not make, so it steps only when someone restarted (at N = 1000,
      // stepping every settled node on every change would be most of the run).
      if (planner.phase !== 'settled' || this.dirty.has(node.index)) {
        this.dirty.delete(node.index);
        const { publish } = planner.step(this.view(node), this.sim.now);
        for (const [key, value] of publish) node.core.set(key, value, this.sim.now);
      }
      this.sim.at(this.sim.now + this.stepMs, step);
    };
    // At the node's start, before its first gossip round (as PartitionerService steps at module
    // init, before gossip starts): its first message already says it is joining.
    this.sim.at(Math.max(this.sim.now, node.core.generation), step);
  }

  private tokens(text: string | undefined): number[] {
    if (!text) return [];
    const known = this.decoded.get(text);
    if (known) return known;
    const tokens = decodeTokens(text);
    this.decoded.set(text, tokens);
    return tokens;
  }

  view(node: SimNode): PlannerMember[] {
    const core = node.core;
    const out: PlannerMember[] = [];
    for (const id of core.nodeIds()) {
      const load = core.get(id, LOAD_KEY);
      out.push({
        id,
        status: id === node.id ? 'up' : core.statusOf(id)!,
        generation: core.generationOf(id)!,
        tokens: this.tokens(core.get(id, TOKENS_KEY)),
        replaces: core.get(id, REPLACES_KEY) || undefined,
        join: core.get(id, JOIN_KEY) || undefined,
        handback: core.get(id, HANDBACK_PREFIX + node.id) || undefined,
        load: load ? Number(load) : undefined,
      });
    }
    return out;
  }

  /** The ring `node` holds: what its PartitionerService would build from the same view. */
  ringOf(node: SimNode): TokenRing {
    const view = this.view(node);
    return ringOfView(view, this.planners.get(node.index)!.ownedTokens(view));
  }

  /** Every live node sees exactly the live nodes, all up. */
  allUp(): boolean {
    const live = this.sim.liveNodes();
    for (const observer of live) {
      if (observer.core.size !== live.length) return false;
      for (const n of live) if (n !== observer && observer.core.statusOf(n.id) !== 'up') return false;
    }
    return live.length > 0;
  }

  /**
   * One ring of every live node everywhere. A node's ring is a pure function of its view (every
   * member's status, generation and ring state) and of whether it owns its own part yet, so equal
   * views give equal rings: comparing views is exact, and cheap enough at N = 1000 to do every half round.
   */
  agreed(): boolean {
    const live = this.sim.liveNodes();
    if (live.some((n) => this.planners.get(n.index)?.phase === 'waiting') || !this.allUp()) return false;
    let first: number | undefined;
    for (const observer of live) {
      const h = this.viewHash(observer);
      if (first === undefined) first = h;
      else if (h !== first) return false;
    }
    return true;
  }

  viewHash(observer: SimNode): number {
    const core = observer.core;
    let h = 0;
    for (const id of core.nodeIds()) {
      let m = this.hashOf(id);
      m = Math.imul(m ^ core.generationOf(id)!, 0x9e3779b1);
      for (const key of [TOKENS_KEY, REPLACES_KEY, LOAD_KEY])
        m = Math.imul(m ^ this.hashOf(core.get(id, key) ?? ''), 0x85ebca6b);
      // Of a joiner's mark only "joining" counts: the hashes it publishes are for the joiners' own
      // agreement before settling, and no ring depends on them.
      const join = core.get(id, JOIN_KEY) ?? '';
      m = Math.imul(m ^ this.hashOf(isJoining(join) ? 'p' : join), 0x85ebca6b);
      h = (h + m) | 0;
    }
    return h;
  }

  private hashOf(text: string): number {
    let h = this.textHashes.get(text);
    if (h === undefined) this.textHashes.set(text, (h = tokenOf(text)));
    return h;
  }

  settled(nodes: readonly SimNode[]): boolean {
    return nodes.every((n) => this.planners.get(n.index)?.phase === 'settled');
  }

  /** Most and least owned key space over the mean, in `node`'s ring. */
  balance(node: SimNode): { max: number; min: number; owners: number } {
    const ring = this.ringOf(node);
    const mean = TOKEN_SPACE / ring.nodeIds.length;
    const loads = [...ring.loads()];
    return { max: Math.max(...loads) / mean, min: Math.min(...loads) / mean, owners: ring.nodeIds.length };
  }
}

/** Starts `initial` nodes together, then waves of `wave` until every node runs; measures each wave. */
export function runJoinWaves(sim: Simulation, options: JoinWaveOptions, progress: Progress): WaveResult[] {
  const planners = new SimPlanners(sim, options.vnodes, {
    choiceDelayMs: options.choiceDelayMs,
    settleMs: options.settleMs,
  });
  const interval = sim.gossip.intervalMs;
  const results: WaveResult[] = [];
  let first = true;
  while (sim.nodes.length < sim.options.nodes) {
    const size = first && options.initial > 0 ? options.initial : options.wave;
    first = false;
    const before = sim.nodes.length;
    const wave = sim.startMore(size, options.spreadMs);
    for (const node of wave) planners.attach(node);
    const observer = sim.nodes[0];
    let ring: TokenRing | undefined = before > 0 ? planners.ringOf(observer) : undefined;
    let lastView = before > 0 ? planners.viewHash(observer) : 0;
    let moved = 0;
    // The observer's ring, followed at every check: each change moves data in an app like kv-store.
    const follow = (): void => {
      if (ring === undefined || !observer.alive) return;
      const h = planners.viewHash(observer);
      if (h === lastView) return;
      lastView = h;
      const next = planners.ringOf(observer);
      moved += movedFraction(diffRings(ring, next));
      ring = next;
    };
    const begin = sim.now + options.spreadMs;
    sim.runUntil(begin);
    let allUpIn: number | null = null;
    const agreedIn = sim.runUntilTrue(
      () => {
        follow();
        if (allUpIn === null && planners.allUp()) allUpIn = sim.now - begin;
        return planners.agreed();
      },
      interval / 10,
      options.maxWaveMs,
    );
    const settledIn = sim.runUntilTrue(
      () => {
        follow();
        return planners.settled(wave) && planners.agreed();
      },
      interval / 10,
      options.maxWaveMs,
    );
    const { max, min, owners } = planners.balance(observer);
    let replans = 0;
    for (const node of wave) replans += planners.planners.get(node.index)!.stats.replans;
    const rounds = (ms: number | null, plus = 0) => (ms === null ? null : round((ms + plus) / interval, 1));
    const result: WaveResult = {
      size: wave.length,
      nodes_after: sim.nodes.length,
      rounds_to_all_up: rounds(allUpIn),
      rounds_to_agreed_ring: rounds(agreedIn),
      rounds_to_settled: settledIn === null ? null : rounds(settledIn, agreedIn ?? 0),
      max_over_mean: round(max, 3)!,
      min_over_mean: round(min, 3)!,
      replans,
      moved_over_ideal: before === 0 ? null : round(moved / (wave.length / sim.nodes.length), 3)!,
    };
    if (owners !== sim.liveNodes().length) progress(`WARNING: the observer's ring has ${owners} owners`);
    results.push(result);
    progress(
      `wave of ${wave.length} (now ${sim.nodes.length}): all up after ${result.rounds_to_all_up} rounds, one ring after ${result.rounds_to_agreed_ring}, settled after ${result.rounds_to_settled}; max/mean ${result.max_over_mean}, min/mean ${result.min_over_mean}; ${replans} re-plans; the observer's ring moved ${result.moved_over_ideal ?? '-'}x the wave's share`,
    );
  }
  return results;
}
