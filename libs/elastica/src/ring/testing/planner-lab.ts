// Token planners on a virtual clock over an idealised membership: every node that has started sees
// the published state of every other started node it can reach, `delayMs` late. Enough to test the
// planner's rules for arrival patterns, partitions and loads without gossip; the simulator (tools/sim)
// drives the same planner over real gossip cores.
import { TOKEN_SPACE } from '../hash.js';
import { decodeTokens, HANDBACK_PREFIX, JOIN_KEY, LOAD_KEY, REPLACES_KEY, TOKENS_KEY } from '../token-codec.js';
import { TokenPlanner, type PlannerMember } from '../token-planner.js';
import { TokenRing } from '../token-ring.js';
import type { CohortCache } from '../cohort-allocation.js';

export interface LabNode {
  id: string;
  planner: TokenPlanner;
  startAt: number;
  generation: number;
  status: 'up' | 'down';
  /** Published state, with the time each value was set (others see it `delayMs` later). */
  state: Map<string, { value: string; at: number }>;
}

export class PlannerLab {
  now = 0;
  readonly nodes = new Map<string, LabNode>();
  readonly cache: CohortCache = new Map();
  /** Pairs that cannot hear each other (both directions), as `a|b` with a < b. */
  readonly cut = new Set<string>();

  constructor(
    readonly intervalMs = 1000,
    readonly delayMs = 0,
    readonly vnodes = 16,
    readonly tickMs = 100,
  ) {}

  add(id: string, startAt = this.now, opts: { lone?: boolean; replaces?: string; generation?: number } = {}): LabNode {
    const node: LabNode = {
      id,
      planner: new TokenPlanner({
        nodeId: id,
        vnodes: this.vnodes,
        intervalMs: this.intervalMs,
        lone: opts.lone ?? false,
        replaces: opts.replaces,
        cache: this.cache,
      }),
      startAt,
      generation: opts.generation ?? 1,
      status: 'up',
      state: new Map(),
    };
    this.nodes.set(id, node);
    return node;
  }

  setLoad(id: string, load: number): void {
    this.nodes.get(id)!.state.set(LOAD_KEY, { value: String(load), at: this.now });
  }

  separate(a: string, b: string): void {
    this.cut.add(a < b ? `${a}|${b}` : `${b}|${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  private hears(a: string, b: string): boolean {
    return a === b || !this.cut.has(a < b ? `${a}|${b}` : `${b}|${a}`);
  }

  view(observer: LabNode): PlannerMember[] {
    const out: PlannerMember[] = [];
    for (const n of this.nodes.values()) {
      if (n.startAt > this.now || !this.hears(observer.id, n.id)) continue;
      const late = n === observer ? 0 : this.delayMs;
      const get = (key: string) => {
        const e = n.state.get(key);
        return e && e.at + late <= this.now && e.value !== '' ? e.value : undefined;
      };
      const text = get(TOKENS_KEY);
      const load = get(LOAD_KEY);
      out.push({
        id: n.id,
        status: n.status,
        generation: n.generation,
        tokens: text ? decodeTokens(text) : [],
        replaces: get(REPLACES_KEY),
        join: get(JOIN_KEY),
        handback: get(HANDBACK_PREFIX + observer.id),
        load: load === undefined ? undefined : Number(load),
      });
    }
    return out;
  }

  tick(): void {
    for (const n of this.nodes.values()) {
      if (n.startAt > this.now || n.status !== 'up') continue;
      const { publish } = n.planner.step(this.view(n), this.now);
      for (const [key, value] of publish) n.state.set(key, { value, at: this.now });
    }
    this.now += this.tickMs;
  }

  runFor(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) this.tick();
  }

  /** Runs until every started node has settled tokens; returns the time it took, or null. */
  runUntilSettled(maxMs = 120_000): number | null {
    const start = this.now;
    while (this.now - start < maxMs) {
      if ([...this.nodes.values()].every((n) => n.startAt <= this.now && n.planner.phase === 'settled'))
        return this.now - start;
      this.tick();
    }
    return null;
  }

  /** The ring of the nodes' current tokens (as everyone will see it once gossip catches up). */
  ring(): TokenRing {
    return TokenRing.build(
      [...this.nodes.values()]
        .filter((n) => n.planner.tokens.length > 0 && n.status === 'up')
        .map((n) => ({ id: n.id, status: 'up', tokens: n.planner.tokens })),
    );
  }

  /** Most and least owned key space over the mean. */
  balance(): { max: number; min: number } {
    const ring = this.ring();
    const mean = TOKEN_SPACE / ring.nodeIds.length;
    const loads = [...ring.loads()];
    return { max: Math.max(...loads) / mean, min: Math.min(...loads) / mean };
  }
}
