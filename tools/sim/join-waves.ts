// Join waves: nodes arrive in waves onto real gossip cores, each driving the library's TokenPlanner
// (the same core PartitionerService drives), and we measure how fast every node agrees on one ring
// and how balanced it is once the joiners have settled.
import { REPLACES_KEY, TOKEN_SPACE, TOKENS_KEY, TokenPlanner, TokenRing, tokenOf, type PlannerMember } from 'elastica';
import { decodeTokens, HANDBACK_PREFIX, JOIN_KEY, LOAD_KEY, type CohortCache } from 'elastica/testing';
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
  /** Gossip rounds from the wave's last start until every live node holds the same ring of every live node. */
  rounds_to_agreed_ring: number | null;
  /** ... and until every joiner's tokens settled with that ring agreed (final). */
  rounds_to_settled: number | null;
  max_over_mean: number;
  min_over_mean: number;
  replans: number;
  /** Key space the wave's re-plans moved, over the wave's ideal share (W / N). */
  replan_moved_over_ideal: number;
}

const OWNING = new Set(['up', 'leaving']);

/** One TokenPlanner per simulated node, stepped on the virtual clock. */
export class SimPlanners {
  readonly planners = new Map<number, TokenPlanner>();
  private readonly cache: CohortCache = new Map();
  private readonly decoded = new Map<string, number[]>();
  /** A hash per gossiped token text (V8 keeps a string's own hash, so the lookup is cheap). */
  private readonly textHashes = new Map<string, number>();
  private readonly dirty = new Set<number>();
  private readonly stepMs: number;

  constructor(
    private readonly sim: Simulation,
    private readonly vnodes: number,
    private readonly delays: { choiceDelayMs?: number; settleMs?: number } = {},
  ) {
    this.stepMs = Math.max(20, Math.min(500, sim.gossip.intervalMs / 2));
    sim.changeHooks.push((observer, change) => {
      if (change.key.startsWith('elastica.')) this.dirty.add(observer.index);
    });
    sim.eventHooks.push((observer) => this.dirty.add(observer.index));
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
      if (planner.phase !== 'settled' || this.dirty.has(node.index)) {
        this.dirty.delete(node.index);
        const { publish } = planner.step(this.view(node), this.sim.now);
        for (const [key, value] of publish) node.core.set(key, value, this.sim.now);
      }
      this.sim.at(this.sim.now + this.stepMs, step);
    };
    this.sim.at(this.sim.now + this.stepMs, step);
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

  /** Every live node sees every live node owning, with the same tokens: one agreed ring. */
  agreed(): boolean {
    const live = this.sim.liveNodes();
    let first: number | undefined;
    for (const node of live) {
      let h = 0;
      let owners = 0;
      const core = node.core;
      for (const id of core.nodeIds()) {
        const status = id === node.id ? 'up' : core.statusOf(id)!;
        const text = core.get(id, TOKENS_KEY);
        if (!text || !OWNING.has(status)) continue;
        owners++;
        let th = this.textHashes.get(text);
        if (th === undefined) this.textHashes.set(text, (th = tokenOf(text)));
        h = (h + Math.imul(th, 0x9e3779b1)) | 0;
      }
      if (owners !== live.length) return false;
      if (first === undefined) first = h;
      else if (h !== first) return false;
    }
    return live.length > 0;
  }

  settled(nodes: readonly SimNode[]): boolean {
    return nodes.every((n) => this.planners.get(n.index)?.phase === 'settled');
  }

  balance(): { max: number; min: number } {
    const ring = TokenRing.build(
      this.sim.liveNodes().map((n) => ({ id: n.id, status: 'up', tokens: this.planners.get(n.index)?.tokens ?? [] })),
    );
    const mean = TOKEN_SPACE / ring.nodeIds.length;
    const loads = [...ring.loads()];
    return { max: Math.max(...loads) / mean, min: Math.min(...loads) / mean };
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
    const wave = sim.startMore(size, options.spreadMs);
    for (const node of wave) planners.attach(node);
    const begin = sim.now + options.spreadMs;
    sim.runUntil(begin);
    const agreedIn = sim.runUntilTrue(() => planners.agreed(), interval / 2, options.maxWaveMs);
    const settledIn = sim.runUntilTrue(
      () => planners.settled(wave) && planners.agreed(),
      interval / 2,
      options.maxWaveMs,
    );
    const { max, min } = planners.balance();
    let replans = 0;
    let moved = 0;
    for (const node of wave) {
      const stats = planners.planners.get(node.index)!.stats;
      replans += stats.replans;
      moved += stats.replanMovedFraction;
    }
    const result: WaveResult = {
      size: wave.length,
      nodes_after: sim.nodes.length,
      rounds_to_agreed_ring: agreedIn === null ? null : round(agreedIn / interval, 2),
      rounds_to_settled: settledIn === null ? null : round((settledIn + (agreedIn ?? 0)) / interval, 2),
      max_over_mean: round(max, 3)!,
      min_over_mean: round(min, 3)!,
      replans,
      replan_moved_over_ideal: round(moved / (wave.length / sim.nodes.length), 3)!,
    };
    results.push(result);
    progress(
      `wave of ${wave.length} (now ${sim.nodes.length}): one ring after ${result.rounds_to_agreed_ring} rounds, settled after ${result.rounds_to_settled}; max/mean ${result.max_over_mean}, min/mean ${result.min_over_mean}; ${replans} re-plans moving ${result.replan_moved_over_ideal}x the wave's share`,
    );
  }
  return results;
}
