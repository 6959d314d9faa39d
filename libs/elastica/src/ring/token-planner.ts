import { TOKEN_SPACE, tokenOf } from './hash.js';
import { allocateCohort, loadDensities, type CohortCache } from './cohort-allocation.js';
import { decodeTokens, encodeTokens, HANDBACK_PREFIX, JOIN_KEY, REPLACES_KEY, TOKENS_KEY } from './token-codec.js';
import { ownsRanges, TokenRing } from './token-ring.js';

/** One member as the planner needs it: gossip's view, its tokens already decoded. */
export interface PlannerMember {
  id: string;
  status: string;
  generation: number;
  /** Sorted tokens; empty when none (or unreadable). */
  tokens: readonly number[];
  /** `elastica.replaces`: the down node this member took over. */
  replaces?: string;
  /** `elastica.join`: `p` while its tokens are provisional; anything else (or nothing) is settled. */
  join?: string;
  /** `elastica.handback.<local id>`: the tokens of this node's previous run, as this member hands them back. */
  handback?: string;
  /** `elastica.load`, as the member reported it. */
  load?: number;
}

export interface TokenPlannerConfig {
  nodeId: string;
  vnodes: number;
  /** The gossip interval: every wait below is a multiple of it. */
  intervalMs: number;
  /** This node's only seed is itself: it may choose at once. */
  lone: boolean;
  /** `partitioner.replaces`. */
  replaces?: string;
  /** How long the plan's inputs must be still before a first choice or a re-plan. Default one interval. */
  choiceDelayMs?: number;
  /** How long they must be still (and the cohort agree) before provisional tokens settle. Default 5 intervals. */
  settleMs?: number;
  /** Shared by planners that may see the same views (the simulator); a planner keeps its own otherwise. */
  cache?: CohortCache;
}

export interface PlannerNotice {
  level: 'log' | 'warn' | 'error';
  message: string;
}

/** What one step asks the caller to do: gossip state to publish (in order), and lines to log. */
export interface PlannerOutput {
  publish: [key: string, value: string][];
  notices: PlannerNotice[];
}

export type PlannerPhase = 'waiting' | 'provisional' | 'settled';

/** Counts since start, for tests, logs and the simulator. */
export interface PlannerStats {
  /** Times this node's provisional tokens were recomputed and changed. */
  replans: number;
  /** Fraction of the key space this node's re-plans gave away (ranges it owned then lost). */
  replanMovedFraction: number;
  /** When the tokens first went out and when they settled (the `now` of that step). */
  firstChoiceAt: number | null;
  settledAt: number | null;
}

interface Plan {
  key: string;
  cohort: readonly string[];
  assignment: ReadonlyMap<string, number[]>;
}

interface Inputs {
  key: string;
  base: TokenRing;
  cohort: string[];
  exclude: Set<number>;
  density: Map<string, number>;
  /** Settled members of the current plan's cohort that published exactly what the plan gave them. */
  settledAsPlanned: string[];
}

const STAYING = new Set(['up', 'down', 'joining']);
const JOINING = new Set(['up', 'joining']);

/**
 * Token choice, sans IO: fed the membership view and the time, it says what to publish. The
 * PartitionerService (and the simulator) own the timers, gossip and logging, and call `step`.
 *
 * A new node's tokens are provisional at first (`elastica.join = p`, tokens published and owning at
 * once). Its plan is the cohort allocation over its view: the settled members form the base; this
 * node, every provisional member and every member without tokens form the cohort, placed in id order
 * (see allocateCohort). When the view changes what the plan is computed from, it plans again. Once
 * those inputs have been still for `settleMs` and every cohort member published what the plan gives
 * it, the node settles (`elastica.join = s`) and its tokens never change again, except on a collision.
 * Why this converges: docs/ARCHITECTURE.md, "Nodes that arrive together".
 */
export class TokenPlanner {
  readonly settleMs: number;
  readonly choiceDelayMs: number;
  readonly joinWaitMs: number;
  readonly maxProvisionalMs: number;
  private phaseValue: PlannerPhase = 'waiting';
  private tokensValue: number[] = [];
  private startedAt: number | undefined;
  private inputsChangedAt = 0;
  private lastInputsKey = '';
  private plan: Plan | undefined;
  private plannedAt = 0;
  private provisionalSince = 0;
  private readonly cache: CohortCache;
  private inputsMemo: { signature: string; planKey: string | undefined; inputs: Inputs } | undefined;
  /** The last tokens seen of every node and the generation that held them; kept after a restart wipes its state. */
  private readonly lastKnown = new Map<string, { generation: number; tokens: readonly number[] }>();
  private readonly handbacks = new Set<string>();
  private readonly statsValue: PlannerStats = {
    replans: 0,
    replanMovedFraction: 0,
    firstChoiceAt: null,
    settledAt: null,
  };

  constructor(private readonly config: TokenPlannerConfig) {
    const interval = config.intervalMs;
    this.choiceDelayMs = config.choiceDelayMs ?? interval;
    this.settleMs = config.settleMs ?? 5 * interval;
    this.joinWaitMs = 5 * interval;
    this.maxProvisionalMs = 30 * interval;
    this.cache = config.cache ?? (new Map() as CohortCache);
  }

  get phase(): PlannerPhase {
    return this.phaseValue;
  }

  /** This node's tokens: empty until first chosen. */
  get tokens(): readonly number[] {
    return this.tokensValue;
  }

  get stats(): Readonly<PlannerStats> {
    return this.statsValue;
  }

  /** Every token any node was last seen holding (for choosing free tokens). */
  knownTokens(): Set<number> {
    const out = new Set<number>();
    for (const { tokens } of this.lastKnown.values()) for (const t of tokens) out.add(t);
    return out;
  }

  step(members: readonly PlannerMember[], now: number): PlannerOutput {
    const out: PlannerOutput = { publish: [], notices: [] };
    this.startedAt ??= now;
    const restarted = this.remember(members);
    const inputs = this.phaseValue === 'settled' ? undefined : this.inputs(members);
    // Cohort members settling as planned change nothing the plan depends on: that is no change.
    const key = inputs && (this.plan && inputs.key !== this.plan.key ? this.effectiveKey(inputs) : inputs.key);
    if (key !== undefined && key !== this.lastInputsKey) {
      this.lastInputsKey = key;
      this.inputsChangedAt = now;
    }
    if (this.phaseValue === 'waiting') {
      if (this.dueToChoose(members, now)) this.choose(members, inputs!, now, out);
    } else if (this.phaseValue === 'provisional') {
      const handback = members.find((m) => m.handback)?.handback;
      if (handback && this.takeHandback(handback, out)) this.settle(now, out, false);
      else if (key !== this.plan!.key) {
        // Coalesced like the first choice: one re-plan for the burst of joiners a few exchanges reveal.
        if (now - this.inputsChangedAt >= this.choiceDelayMs) this.replan(inputs!, now, out);
      } else if (this.maySettle(members, now)) this.settle(now, out, true);
    }
    this.repickCollisions(members, out);
    if (this.phaseValue === 'settled' && restarted.length > 0) this.serveHandbacks(members, restarted, out);
    else if (this.handbacks.size > 0) this.serveHandbacks(members, [], out);
    return out;
  }

  // ---- inputs

  /** Records tokens; returns the members that restarted (new generation, no settled tokens) and whose old tokens are known. */
  private remember(members: readonly PlannerMember[]): PlannerMember[] {
    const restarted: PlannerMember[] = [];
    for (const m of members) {
      if (m.id === this.config.nodeId) continue;
      const known = this.lastKnown.get(m.id);
      if (m.tokens.length > 0 && m.join !== 'p')
        this.lastKnown.set(m.id, { generation: m.generation, tokens: m.tokens });
      else if (m.tokens.length > 0 && (!known || known.generation === m.generation))
        this.lastKnown.set(m.id, { generation: m.generation, tokens: m.tokens });
      else if (known && m.generation > known.generation && JOINING.has(m.status)) restarted.push(m);
    }
    return restarted;
  }

  /** A member without settled tokens whose earlier run's tokens a peer is handing back: not a joiner to plan for. */
  private awaitingHandback(m: PlannerMember): boolean {
    const known = this.lastKnown.get(m.id);
    return known !== undefined && m.generation > known.generation && m.tokens.length === 0;
  }

  /** Same view (and plan) as the previous step: the same inputs, without rebuilding the base ring. */
  private inputs(members: readonly PlannerMember[]): Inputs {
    const signature = viewSignature(members);
    const memo = this.inputsMemo;
    if (memo && memo.signature === signature && memo.planKey === this.plan?.key) return memo.inputs;
    const inputs = this.computeInputs(members);
    this.inputsMemo = { signature, planKey: this.plan?.key, inputs };
    return inputs;
  }

  private computeInputs(members: readonly PlannerMember[]): Inputs {
    const self = this.config.nodeId;
    const replaced = new Set(members.filter((m) => m.replaces).map((m) => m.replaces!));
    const baseMembers: PlannerMember[] = [];
    const cohort: string[] = [self];
    const exclude = new Set<number>();
    const planned = this.plan;
    const settledAsPlanned: string[] = [];
    for (const m of members) {
      if (m.id === self || replaced.has(m.id)) continue;
      const provisional = m.join === 'p' && m.tokens.length > 0 && JOINING.has(m.status);
      const tokenless = m.tokens.length === 0 && JOINING.has(m.status) && !m.replaces && !this.awaitingHandback(m);
      if (provisional || tokenless) {
        cohort.push(m.id);
        continue;
      }
      for (const t of m.tokens) exclude.add(t);
      if (m.tokens.length > 0 && STAYING.has(m.status)) {
        baseMembers.push(m);
        const assigned = planned?.assignment.get(m.id);
        if (assigned && sameTokens(assigned, m.tokens)) settledAsPlanned.push(m.id);
      }
    }
    cohort.sort();
    const base = TokenRing.build(baseMembers.map((m) => ({ id: m.id, status: 'up', tokens: m.tokens })));
    const loads = new Map<string, number>();
    for (const m of baseMembers) if (m.load !== undefined) loads.set(m.id, m.load);
    const density = loadDensities(base, loads);
    const key = inputsKey(base, cohort, exclude, density, this.config.vnodes);
    return { key, base, cohort, exclude, density, settledAsPlanned };
  }

  /** The inputs key as if the plan's cohort members that settled exactly as planned were still in the cohort. */
  private effectiveKey(inputs: Inputs): string {
    if (inputs.settledAsPlanned.length === 0) return inputs.key;
    const moved = new Set(inputs.settledAsPlanned);
    const base = TokenRing.build(
      inputs.base.nodeIds
        .filter((id) => !moved.has(id))
        .map((id) => ({ id, status: 'up', tokens: inputs.base.tokensOf(id) })),
    );
    const exclude = new Set(inputs.exclude);
    for (const id of moved) for (const t of this.plan!.assignment.get(id) ?? []) exclude.delete(t);
    const density = new Map([...inputs.density].filter(([id]) => !moved.has(id)));
    return inputsKey(base, [...inputs.cohort, ...moved].sort(), exclude, density, this.config.vnodes);
  }

  // ---- first choice

  private dueToChoose(members: readonly PlannerMember[], now: number): boolean {
    const { replaces, lone, nodeId } = this.config;
    if (lone && !replaces) return true;
    const waited = now - this.startedAt!;
    if (replaces && !this.lastKnown.has(replaces)) return waited >= 6 * this.joinWaitMs;
    const heard = members.some((m) => m.id !== nodeId && (m.tokens.length > 0 || m.status === 'up'));
    if (!heard) return waited >= this.joinWaitMs;
    if (members.some((m) => m.handback)) return true;
    // A short pause coalesces the burst of members one gossip exchange brings; joiners heard later
    // only make this node plan again while provisional.
    return now - this.inputsChangedAt >= this.choiceDelayMs || waited >= 3 * this.joinWaitMs;
  }

  private choose(members: readonly PlannerMember[], inputs: Inputs, now: number, out: PlannerOutput): void {
    this.statsValue.firstChoiceAt = now;
    if (this.config.replaces && this.takeOver(members, out)) return this.settle(now, out, false);
    const handback = members.find((m) => m.handback)?.handback;
    if (handback && this.takeHandback(handback, out)) return this.settle(now, out, false);
    this.phaseValue = 'provisional';
    this.provisionalSince = now;
    out.publish.push([JOIN_KEY, 'p']);
    this.replan(inputs, now, out);
    const others = inputs.cohort.length - 1;
    out.notices.push({
      level: 'log',
      message: `chose ${this.tokensValue.length} provisional tokens splitting the most loaded ranges of ${inputs.base.nodeIds.length} nodes${others > 0 ? `, with ${others} other joiner(s)` : ''}`,
    });
  }

  private takeOver(members: readonly PlannerMember[], out: PlannerOutput): boolean {
    const replaces = this.config.replaces!;
    const target = members.find((m) => m.id === replaces);
    const known = this.lastKnown.get(replaces);
    if (target && (target.status === 'up' || target.status === 'leaving')) {
      out.notices.push({
        level: 'error',
        message: `partitioner.replaces names ${replaces}, which is ${target.status}: only a down node can be replaced; choosing new tokens instead`,
      });
      return false;
    }
    if (!known) {
      out.notices.push({
        level: 'error',
        message: `partitioner.replaces names ${replaces}, whose tokens this node never heard of; choosing new tokens instead`,
      });
      return false;
    }
    out.publish.push([REPLACES_KEY, replaces]);
    this.setTokens(known.tokens, out);
    out.notices.push({ level: 'log', message: `replacing ${replaces}: taking over its ${known.tokens.length} tokens` });
    return true;
  }

  private takeHandback(text: string, out: PlannerOutput): boolean {
    try {
      const tokens = decodeTokens(text);
      this.setTokens(tokens, out);
      out.notices.push({
        level: 'log',
        message: `restarted: took back the ${tokens.length} tokens of this node's previous run`,
      });
      return true;
    } catch (err) {
      out.notices.push({
        level: 'error',
        message: `a peer handed back tokens this node cannot read: ${(err as Error).message}`,
      });
      return false;
    }
  }

  // ---- provisional

  private replan(inputs: Inputs, now: number, out: PlannerOutput): void {
    const assignment = allocateCohort(
      {
        base: inputs.base,
        cohort: inputs.cohort,
        vnodes: this.config.vnodes,
        exclude: inputs.exclude,
        density: inputs.density,
      },
      this.cache,
      inputs.key,
    );
    this.plan = { key: inputs.key, cohort: inputs.cohort, assignment };
    this.plannedAt = now;
    const mine = assignment.get(this.config.nodeId)!;
    if (this.tokensValue.length > 0 && !sameTokens(mine, this.tokensValue)) {
      this.statsValue.replans++;
      this.statsValue.replanMovedFraction += lostFraction(this.tokensValue, mine, inputs.base);
    }
    this.setTokens(mine, out);
  }

  private maySettle(members: readonly PlannerMember[], now: number): boolean {
    if (now - this.provisionalSince >= this.maxProvisionalMs) return true;
    if (now - this.inputsChangedAt < this.settleMs || now - this.plannedAt < this.settleMs) return false;
    // Everyone the plan places has published what it gives them: the cohort shares this view.
    const byId = new Map(members.map((m) => [m.id, m]));
    for (const id of this.plan!.cohort) {
      const m = byId.get(id);
      if (!m || id === this.config.nodeId || !JOINING.has(m.status)) continue;
      if (!sameTokens(m.tokens, this.plan!.assignment.get(id)!)) return false;
    }
    return true;
  }

  private settle(now: number, out: PlannerOutput, announce: boolean): void {
    this.phaseValue = 'settled';
    this.statsValue.settledAt = now;
    this.plan = undefined;
    if (announce) {
      out.publish.push([JOIN_KEY, 's']);
      out.notices.push({ level: 'log', message: `tokens settled after ${this.statsValue.replans} re-plan(s)` });
    }
  }

  private setTokens(tokens: readonly number[], out: PlannerOutput): void {
    const sorted = [...tokens].sort((a, b) => a - b);
    if (sameTokens(sorted, this.tokensValue)) return;
    this.tokensValue = sorted;
    out.publish.push([TOKENS_KEY, encodeTokens(sorted)]);
  }

  // ---- collisions and handbacks (any phase)

  /** A token another node holds too, where that node's id is smaller, moves to the next free token. */
  private repickCollisions(members: readonly PlannerMember[], out: PlannerOutput): void {
    // A cohort's plan never collides within itself or with a settled token; provisional tokens are left
    // alone so that every joiner keeps exactly what the shared plan gives it.
    if (this.phaseValue !== 'settled' || this.tokensValue.length === 0) return;
    const mine = new Set(this.tokensValue);
    const lost = new Set<number>();
    // A replaced member owns nothing (the ring leaves it out), so its tokens are no collision.
    const replaced = new Set(members.filter((m) => m.replaces && ownsRanges(m.status)).map((m) => m.replaces!));
    for (const m of members) {
      if (m.id === this.config.nodeId || m.id > this.config.nodeId || m.join === 'p' || replaced.has(m.id)) continue;
      if (!(m.status === 'up' || m.status === 'leaving')) continue;
      for (const t of m.tokens) if (mine.has(t)) lost.add(t);
    }
    if (lost.size === 0) return;
    const taken = this.knownTokens();
    for (const m of members) for (const t of m.tokens) taken.add(t);
    for (const t of this.tokensValue) taken.add(t);
    const next = this.tokensValue.map((t) => {
      if (!lost.has(t)) return t;
      let free = (t + 1) % TOKEN_SPACE;
      while (taken.has(free)) free = (free + 1) % TOKEN_SPACE;
      taken.add(free);
      return free;
    });
    out.notices.push({
      level: 'warn',
      message: `${lost.size} of this node's tokens collided with another node's; moved them to free tokens`,
    });
    this.setTokens(next, out);
  }

  /**
   * A node that restarted with the same id has lost its tokens (its new generation's state replaced
   * the old). One peer (the current owner of its first old token) hands them back through gossip, so
   * its ranges return to it instead of being split anew; the handback is withdrawn once it has settled tokens.
   */
  private serveHandbacks(
    members: readonly PlannerMember[],
    restarted: readonly PlannerMember[],
    out: PlannerOutput,
  ): void {
    const replaced = new Set(members.filter((m) => m.replaces).map((m) => m.replaces!));
    const pending = new Set(restarted.map((m) => m.id));
    let owners: TokenRing | undefined;
    for (const m of restarted) {
      if (this.handbacks.has(m.id) || replaced.has(m.id)) continue;
      const known = this.lastKnown.get(m.id)!;
      owners ??= TokenRing.build(
        members.map((x) => ({
          id: x.id,
          status: x.status,
          replaces: x.replaces,
          tokens: x.id === this.config.nodeId ? this.tokensValue : x.tokens,
        })),
      );
      if (owners.nodeForToken(known.tokens[0]) !== this.config.nodeId) continue;
      out.publish.push([HANDBACK_PREFIX + m.id, encodeTokens(known.tokens)]);
      this.handbacks.add(m.id);
      out.notices.push({
        level: 'log',
        message: `node ${m.id} restarted; handing back the tokens of its previous run`,
      });
    }
    for (const id of [...this.handbacks]) {
      if (pending.has(id)) continue;
      // A withdrawn handback stays as an empty key (gossip has no delete).
      this.handbacks.delete(id);
      out.publish.push([HANDBACK_PREFIX + id, '']);
    }
  }
}

/** Everything of the view the inputs depend on, cheaply (tokens by a sum hash). */
function viewSignature(members: readonly PlannerMember[]): string {
  const parts: string[] = [];
  for (const m of members) {
    let h = m.tokens.length;
    for (let i = 0; i < m.tokens.length; i++) h = (Math.imul(h, 31) + m.tokens[i]) | 0;
    parts.push(`${m.id}|${m.status}|${m.generation}|${m.join ?? ''}|${m.replaces ?? ''}|${m.load ?? ''}|${h}`);
  }
  return parts.join('\n');
}

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The key space `before` owned (on top of `base`) that `after` does not: what a re-plan gave away. */
function lostFraction(before: readonly number[], after: readonly number[], base: TokenRing): number {
  const ring = (tokens: readonly number[]) =>
    TokenRing.build([
      ...base.nodeIds.map((id) => ({ id: `b:${id}`, status: 'up', tokens: base.tokensOf(id) })),
      { id: 'self', status: 'up', tokens },
    ]);
  const a = ring(before);
  const b = ring(after);
  // Owned before minus owned in both: walk both rings' cut points.
  const cuts = [...new Set([...a.tokens, ...b.tokens])].sort((x, y) => x - y);
  let lost = 0;
  for (let i = 0; i < cuts.length; i++) {
    const end = cuts[i];
    const size = i === 0 ? end + TOKEN_SPACE - cuts[cuts.length - 1] : end - cuts[i - 1];
    if (a.nodeForToken(end) === 'self' && b.nodeForToken(end) !== 'self') lost += size;
  }
  return lost / TOKEN_SPACE;
}

function inputsKey(
  base: TokenRing,
  cohort: readonly string[],
  exclude: ReadonlySet<number>,
  density: ReadonlyMap<string, number>,
  vnodes: number,
): string {
  let h = 0;
  for (const t of exclude) h = (h + Math.imul(t ^ 0x9e3779b9, 0x85ebca6b)) | 0;
  const dens = [...density].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, d]) => `${id}=${d}`);
  return `${vnodes}|${base.checksum}|${base.nodeIds.length}|${h >>> 0}|${tokenOf(cohort.join('\u0000'))}|${cohort.length}|${dens.join(',')}`;
}
