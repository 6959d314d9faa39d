// Token planners on a virtual clock over an idealised membership: every node that has started sees
// the published state of every other started node it can reach, `delayMs` late. Enough to test the
// planner's rules for arrival patterns, partitions and loads without gossip; the simulator (tools/sim)
// drives the same planner over real gossip cores.
import { TOKEN_SPACE } from '../hash.js';
import { decodeTokens, HANDBACK_PREFIX, JOIN_KEY, LOAD_KEY, REPLACES_KEY, TOKENS_KEY } from '../token-codec.js';
import { TokenPlanner, type PlannerMember } from '../token-planner.js';
import { TokenRing } from '../token-ring.js';
import type { CohortCache } from '../cohort-allocation.js';
import { ringOfView } from '../cohort-view.js';

export interface LabNode {
  id: string;
  planner: TokenPlanner;
  startAt: number;
  generation: number;
  status: 'up' | 'down';
  /** Published state, with the time each value was set (others see it `delayMs` later, the one before until then). */
  state: Map<string, { value: string; at: number; before?: string }>;
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

  add(
    id: string,
    startAt = this.now,
    opts: { lone?: boolean; replaces?: string; generation?: number; restoreTokens?: readonly number[] } = {},
  ): LabNode {
    const node: LabNode = {
      id,
      planner: new TokenPlanner({
        nodeId: id,
        vnodes: this.vnodes,
        intervalMs: this.intervalMs,
        lone: opts.lone ?? false,
        replaces: opts.replaces,
        restoreTokens: opts.restoreTokens,
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
    this.publish(this.nodes.get(id)!, LOAD_KEY, String(load));
  }

  private publish(node: LabNode, key: string, value: string): void {
    const e = node.state.get(key);
    const before = e && (e.at + this.delayMs <= this.now ? e.value : e.before);
    node.state.set(key, { value, at: this.now, before });
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
        const value = e && (e.at + late <= this.now ? e.value : e.before);
        return value || undefined;
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
      for (const [key, value] of publish) this.publish(n, key, value);
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

  /** The ring `observer` holds now: settled tokens as it sees them, the joiners' parts by its own plan. */
  ringOf(observer: LabNode): TokenRing {
    const view = this.view(observer);
    return ringOfView(view, observer.planner.ownedTokens(view));
  }

  /** Every started node that is up holds the same ring, owned by all of them: its checksum, or undefined. */
  agreedRing(): number | undefined {
    const up = [...this.nodes.values()].filter((n) => n.startAt <= this.now && n.status === 'up');
    let checksum: number | undefined;
    for (const n of up) {
      const ring = this.ringOf(n);
      if (ring.nodeIds.length !== up.length || (checksum !== undefined && ring.checksum !== checksum)) return undefined;
      checksum = ring.checksum;
    }
    return checksum;
  }

  /** The ring of the nodes' published (settled) tokens: the ring once every joiner has settled. */
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
