import { TOKEN_SPACE } from './hash.js';
import type { CohortCache } from './cohort-allocation.js';
import {
  formatJoin,
  isJoining,
  parseJoin,
  planCohort,
  viewCohort,
  type CohortView,
  type PlannerMember,
} from './cohort-view.js';
import { decodeTokens, encodeTokens, HANDBACK_PREFIX, JOIN_KEY, REPLACES_KEY, TOKENS_KEY } from './token-codec.js';
import { ownsRanges, TokenRing } from './token-ring.js';

export type { PlannerMember } from './cohort-view.js';

export interface TokenPlannerConfig {
  nodeId: string;
  vnodes: number;
  /** The gossip interval: every wait below is a multiple of it. */
  intervalMs: number;
  /** This node's only seed is itself: it may start at once. */
  lone: boolean;
  /** `partitioner.replaces`. */
  replaces?: string;
  /** `partitioner.restoreTokens`: this node's tokens of its previous run, settled on at the first step. */
  restoreTokens?: readonly number[];
  /** How long after first hearing the cluster a joiner starts owning its part (a handback may come first). Default one interval. */
  choiceDelayMs?: number;
  /** How long the plan's inputs must be still (and the cohort agree) before a joiner's tokens settle. Default 5 intervals. */
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

/** `waiting`: not owning yet; `provisional`: owning its part of the cohort plan; `settled`: tokens final and published. */
export type PlannerPhase = 'waiting' | 'provisional' | 'settled';

/** Counts since start, for tests, logs and the simulator. */
export interface PlannerStats {
  /** Times the inputs of this node's plan changed after it started owning its part. */
  replans: number;
  /** When it started owning its part, and when its tokens settled (the `now` of that step). */
  firstChoiceAt: number | null;
  settledAt: number | null;
}

const JOINING = new Set(['up', 'joining']);
const NONE: ReadonlyMap<string, number[]> = new Map();

/**
 * Token choice, sans IO: fed the membership view and the time, it says what to publish, and which
 * tokens the joiners own in this node's ring. The PartitionerService (and the simulator) own the
 * timers, gossip and logging, and call `step` and `ownedTokens`.
 *
 * Joiners publish no tokens while they join: every node, joiner or not, computes what each joiner
 * owns from its own view (viewCohort + planCohort: the settled members are the base, the joiners
 * are placed oldest first), so the ring forms as soon as the membership has spread, with no round of
 * token gossip. A joiner announces itself at start (`elastica.join = p`), publishes the hashes of
 * the plan it sees (`p.<base>.<key>`), owns its part one interval after it first heard the cluster
 * (a restarted node's handback may come first), and once the plan's inputs have been still for
 * `settleMs` and every joiner it sees publishes the same hashes, publishes its part as its tokens
 * (`s.<base>.<key>`): final, and the ring does not change (see viewCohort). Why this converges:
 * docs/ARCHITECTURE.md, "Choosing a node's tokens".
 */
export class TokenPlanner {
  readonly settleMs: number;
  readonly choiceDelayMs: number;
  readonly joinWaitMs: number;
  readonly maxProvisionalMs: number;
  private phaseValue: PlannerPhase = 'waiting';
  /** A replacement takes its target's tokens; if it cannot, it joins like any node. */
  private mode: 'join' | 'replace';
  private tokensValue: number[] = [];
  private startedAt: number | undefined;
  private heardAt: number | undefined;
  private provisionalSince = 0;
  private lastKey = '';
  private inputsChangedAt = 0;
  private lastMark = '';
  private readonly cache: CohortCache;
  private readonly densityCache = new Map<string, ReadonlyMap<string, number>>();
  /** The last settled tokens seen of every node and the generation that held them; kept after a restart wipes its state. */
  private readonly lastKnown = new Map<string, { generation: number; tokens: readonly number[] }>();
  private readonly handbacks = new Set<string>();
  private readonly statsValue: PlannerStats = { replans: 0, firstChoiceAt: null, settledAt: null };

  constructor(private readonly config: TokenPlannerConfig) {
    const interval = config.intervalMs;
    this.choiceDelayMs = config.choiceDelayMs ?? interval;
    this.settleMs = config.settleMs ?? 5 * interval;
    this.joinWaitMs = 5 * interval;
    this.maxProvisionalMs = 30 * interval;
    this.cache = config.cache ?? (new Map() as CohortCache);
    this.mode = config.replaces && !config.restoreTokens ? 'replace' : 'join';
  }

  get phase(): PlannerPhase {
    return this.phaseValue;
  }

  /** This node's published tokens: empty until they settle. */
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
    if (this.startedAt === undefined) {
      this.startedAt = now;
      if (this.config.restoreTokens) this.restore(this.config.restoreTokens, now, out);
      // Others plan for this node from the moment they hear of it.
      else if (this.mode === 'join') out.publish.push([JOIN_KEY, 'p']);
    }
    const restarted = this.remember(members);
    if (this.phaseValue === 'waiting' && this.dueToStart(members, now)) this.start(members, now, out);
    if (this.phaseValue !== 'settled' && this.mode === 'join') {
      const handback = members.find((m) => m.handback)?.handback;
      if (handback && this.takeHandback(handback, out)) this.settle(now, out, 's');
      else this.follow(members, now, out);
    }
    this.repickCollisions(members, out);
    if (this.phaseValue === 'settled' && restarted.length > 0) this.serveHandbacks(members, restarted, out);
    else if (this.handbacks.size > 0) this.serveHandbacks(members, [], out);
    return out;
  }

  /**
   * What each joiner owns in this node's ring, by the plan over this node's view (this node's own part
   * only once it has started). Empty when nobody is joining: then every owner's tokens are its own.
   */
  ownedTokens(members: readonly PlannerMember[]): ReadonlyMap<string, readonly number[]> {
    const view = this.view(members);
    if (!view) return NONE;
    const plan = planCohort(view, this.config.vnodes, this.cache);
    if (this.phaseValue !== 'waiting' || !plan.has(this.config.nodeId)) return plan;
    const others = new Map(plan);
    others.delete(this.config.nodeId);
    return others;
  }

  // ---- inputs

  /** Records tokens; returns the members that restarted (new generation, no settled tokens) and whose old tokens are known. */
  private remember(members: readonly PlannerMember[]): PlannerMember[] {
    const restarted: PlannerMember[] = [];
    for (const m of members) {
      if (m.id === this.config.nodeId) continue;
      const known = this.lastKnown.get(m.id);
      if (m.tokens.length > 0 && !isJoining(m.join))
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

  private view(members: readonly PlannerMember[]): CohortView | undefined {
    return viewCohort(members, {
      self: this.config.nodeId,
      selfJoining: this.phaseValue !== 'settled' && this.mode === 'join',
      vnodes: this.config.vnodes,
      awaitingHandback: (m) => this.awaitingHandback(m),
      densityCache: this.densityCache,
    });
  }

  // ---- starting

  private dueToStart(members: readonly PlannerMember[], now: number): boolean {
    const { replaces, lone, nodeId } = this.config;
    if (lone && !replaces) return true;
    const waited = now - this.startedAt!;
    if (replaces && !this.lastKnown.has(replaces)) return waited >= 6 * this.joinWaitMs;
    const heard = members.some((m) => m.id !== nodeId && (m.tokens.length > 0 || m.status === 'up'));
    if (!heard) return waited >= this.joinWaitMs;
    this.heardAt ??= now;
    if (replaces || members.some((m) => m.handback)) return true;
    // The others count this node in from the moment they hear of it; it waits a little before owning
    // its part itself, so that a restarted node's handback (its old ranges) can come first.
    return now - this.heardAt >= this.choiceDelayMs;
  }

  private start(members: readonly PlannerMember[], now: number, out: PlannerOutput): void {
    this.statsValue.firstChoiceAt = now;
    if (this.mode === 'replace') {
      if (this.takeOver(members, out)) return this.settle(now, out, 's');
      this.mode = 'join';
      out.publish.push([JOIN_KEY, 'p']);
    }
    const handback = members.find((m) => m.handback)?.handback;
    if (handback && this.takeHandback(handback, out)) return this.settle(now, out, 's');
    this.phaseValue = 'provisional';
    this.provisionalSince = now;
    this.inputsChangedAt = now;
  }

  // ---- joining

  /** Publishes the hashes of the plan this node sees; settles once they are still and every joiner it sees publishes the same. */
  private follow(members: readonly PlannerMember[], now: number, out: PlannerOutput): void {
    const view = this.view(members)!;
    if (view.key !== this.lastKey) {
      if (this.phaseValue === 'provisional' && this.lastKey !== '') this.statsValue.replans++;
      this.lastKey = view.key;
      this.inputsChangedAt = Math.max(now, this.inputsChangedAt);
    }
    const mark = formatJoin('p', view.baseHash, view.keyHash);
    if (mark !== this.lastMark) {
      this.lastMark = mark;
      out.publish.push([JOIN_KEY, mark]);
    }
    if (this.phaseValue === 'provisional' && this.maySettle(view, members, now)) this.settleOn(view, now, out);
  }

  private maySettle(view: CohortView, members: readonly PlannerMember[], now: number): boolean {
    // A joiner that leaves keeps its part of the plan until it has left: settled, it would drop out of
    // the others' plan at once (a leaving settled node is no longer base for joiners).
    if (members.some((m) => m.id === this.config.nodeId && m.status === 'leaving')) return false;
    // Bounds the wait when the joiners never agree (one stuck behind a partition): this node's part
    // of the plan it sees becomes final, and the others plan around it.
    if (now - this.provisionalSince >= this.maxProvisionalMs) return true;
    if (now - this.inputsChangedAt < this.settleMs) return false;
    const marks = new Map(members.map((m) => [m.id, m.join]));
    for (const id of view.cohort) {
      if (id === this.config.nodeId) continue;
      const mark = parseJoin(marks.get(id));
      if (mark?.base !== view.baseHash || mark.key !== view.keyHash) return false;
    }
    return true;
  }

  private settleOn(view: CohortView, now: number, out: PlannerOutput): void {
    const mine = planCohort(view, this.config.vnodes, this.cache).get(this.config.nodeId)!;
    this.setTokens(mine, out);
    this.settle(now, out, formatJoin('s', view.baseHash, view.keyHash));
    out.notices.push({
      level: 'log',
      message: `tokens settled: its part of one plan for ${view.cohort.length} joiner(s) over ${view.base.length} settled node(s), after ${this.statsValue.replans} change(s) of that plan`,
    });
  }

  private settle(now: number, out: PlannerOutput, mark: string): void {
    this.phaseValue = 'settled';
    this.statsValue.settledAt = now;
    this.lastMark = mark;
    out.publish.push([JOIN_KEY, mark]);
  }

  private setTokens(tokens: readonly number[], out: PlannerOutput): void {
    const sorted = [...tokens].sort((a, b) => a - b);
    if (sameTokens(sorted, this.tokensValue)) return;
    this.tokensValue = sorted;
    out.publish.push([TOKENS_KEY, encodeTokens(sorted)]);
  }

  // ---- restored tokens, replacements and handbacks (taken whole, settled at once)

  /**
   * Tokens the application kept from this node's previous run: settled on before anything is heard,
   * so a cluster restarted whole, where no peer remembers anyone's tokens, gets its old ring back
   * rather than a new plan that would put every key on other nodes. A token another node took
   * meanwhile is still moved by the collision rule.
   */
  private restore(tokens: readonly number[], now: number, out: PlannerOutput): void {
    this.statsValue.firstChoiceAt = now;
    this.setTokens(tokens, out);
    this.settle(now, out, 's');
    out.notices.push({ level: 'log', message: `restored the ${tokens.length} tokens of this node's previous run` });
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

  // ---- collisions and handbacks (any phase)

  /** A token another node holds too, where that node's id is smaller, moves to the next free token. */
  private repickCollisions(members: readonly PlannerMember[], out: PlannerOutput): void {
    // A cohort's plan never collides within itself or with a settled token: only settled tokens that
    // were chosen apart (a partition) can, and joiners publish none.
    if (this.phaseValue !== 'settled' || this.tokensValue.length === 0) return;
    const mine = new Set(this.tokensValue);
    const lost = new Set<number>();
    // A replaced member owns nothing (the ring leaves it out), so its tokens are no collision.
    const replaced = new Set(members.filter((m) => m.replaces && ownsRanges(m.status)).map((m) => m.replaces!));
    for (const m of members) {
      if (m.id === this.config.nodeId || m.id > this.config.nodeId || isJoining(m.join) || replaced.has(m.id)) continue;
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

function sameTokens(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
