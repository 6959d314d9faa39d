import { tokenOf } from './hash.js';
import { allocateCohort, loadDensities, type CohortCache } from './cohort-allocation.js';
import { TokenRing } from './token-ring.js';

/** One member as the planner needs it: gossip's view, its tokens already decoded. */
export interface PlannerMember {
  id: string;
  status: string;
  generation: number;
  /** Sorted tokens; empty when none (or unreadable). */
  tokens: readonly number[];
  /** `elastica.replaces`: the down node this member took over. */
  replaces?: string;
  /** `elastica.join` (see JoinMark). */
  join?: string;
  /** `elastica.handback.<local id>`: the tokens of this node's previous run, as this member hands them back. */
  handback?: string;
  /** `elastica.load`, as the member reported it. */
  load?: number;
}

/**
 * `elastica.join`: `p` from a joiner's start (plan for me), `p.<base>.<key>` once it has a plan, and
 * `s.<base>.<key>` when its tokens are final: `base` names the settled ring the plan was made over
 * and `key` every input of the plan (base36 hashes). `s` alone, or no mark, is a settled node that
 * no cohort placed (the first node, a replacement, a handback, an older version).
 */
export interface JoinMark {
  phase: 'p' | 's';
  base?: number;
  key?: number;
}

export function parseJoin(value: string | undefined): JoinMark | undefined {
  if (!value) return undefined;
  const [phase, base, key] = value.split('.');
  if (phase !== 'p' && phase !== 's') return undefined;
  const b = base === undefined ? NaN : parseInt(base, 36);
  const k = key === undefined ? NaN : parseInt(key, 36);
  return Number.isFinite(b) && Number.isFinite(k) ? { phase, base: b, key: k } : { phase };
}

/** `p` or `p.…`: a joiner (checked on every member at every step, so without parsing). */
export function isJoining(value: string | undefined): boolean {
  return value !== undefined && value.charCodeAt(0) === 112 && (value.length === 1 || value.charCodeAt(1) === 46);
}

export function formatJoin(phase: 'p' | 's', base: number, key: number): string {
  return `${phase}.${base.toString(36)}.${key.toString(36)}`;
}

/** What a node plans from: who is settled, who is joining, and keys that name it all. */
export interface CohortView {
  /** Settled members the plan builds on; their tokens never move. */
  readonly base: readonly PlannerMember[];
  /** Joiners the plan places, sorted by id. */
  readonly cohort: readonly string[];
  /** Tokens of members neither in the base nor the cohort (leaving, left, replaced): not to be taken. */
  readonly exclude: ReadonlySet<number>;
  readonly density: ReadonlyMap<string, number>;
  /** Names the base; published in the join mark. */
  readonly baseHash: number;
  /** Names every input: equal keys, equal plans. */
  readonly key: string;
  readonly keyHash: number;
}

export interface CohortViewOptions {
  self: string;
  /** Whether this node is among the joiners (it is from its start until its tokens settle). */
  selfJoining: boolean;
  vnodes: number;
  /** A member whose earlier run's tokens are being handed back: neither base nor cohort. */
  awaitingHandback?: (m: PlannerMember) => boolean;
  /** Load densities by base, shared across calls (they need a ring built from the base). */
  densityCache?: Map<string, ReadonlyMap<string, number>>;
}

const STAYING = new Set(['up', 'down', 'joining']);
/** Joiners planned for: up (or still joining), and leaving ones, which keep their part until they have left, as settled owners do. */
const JOINING = new Set(['up', 'joining', 'leaving']);

/**
 * Splits a view into the settled base and the cohort of joiners, as every node does for itself:
 * a pure function of the view, so nodes that see the same members compute the same plan, and so
 * the same ring, without waiting for anyone to publish tokens. Undefined when nobody is joining.
 *
 * Settling must not change the ring: a joiner that settles moves from the cohort into the base,
 * which would change the others' plan. So settled members that carry the same mark (`s.<b>.<k>`)
 * are taken back into the cohort when, without them, the base hashes to `b` and the inputs to `k`:
 * the plan is then exactly the one they settled on. Once anything else changed (a new joiner, a
 * departure), the mark no longer matches and they are plain base.
 */
export function viewCohort(members: readonly PlannerMember[], options: CohortViewOptions): CohortView | undefined {
  const { self, selfJoining, vnodes } = options;
  const replaced = new Set<string>();
  for (const m of members) if (m.replaces) replaced.add(m.replaces);
  const settled: { m: PlannerMember; hash: number; mark: JoinMark | undefined }[] = [];
  const cohort: string[] = [];
  const generation = new Map<string, number>();
  for (const m of members) generation.set(m.id, m.generation);
  const exclude = new Set<number>();
  let othersHash = 0;
  for (const m of members) {
    if (m.id === self ? selfJoining : isJoining(m.join) && !replaced.has(m.id)) {
      // A joiner is planned for while it is up (or joining, or leaving), not once it is down or has left.
      if (m.id === self || (JOINING.has(m.status) && !(options.awaitingHandback?.(m) ?? false))) {
        cohort.push(m.id);
        continue;
      }
    } else if (!replaced.has(m.id) && m.tokens.length > 0 && STAYING.has(m.status)) {
      settled.push({ m, hash: memberHash(m), mark: m.join && m.join.length > 1 ? parseJoin(m.join) : undefined });
      continue;
    }
    for (const t of m.tokens) exclude.add(t);
    othersHash = (othersHash + tokensHash(m.tokens)) | 0;
  }
  // The view is expected to list this node (GossipService.members() does); placed last if not.
  if (selfJoining && !generation.has(self)) {
    cohort.push(self);
    generation.set(self, Infinity);
  }
  if (cohort.length === 0) return undefined;
  let allHash = 0;
  for (const s of settled) allHash = (allHash + s.hash) | 0;

  const build = (base: PlannerMember[], joiners: string[], baseHash: number): CohortView => {
    // Oldest first: a joiner heard of late has usually started late, and placed last it changes
    // nobody else's part (the earlier ones' placements do not depend on it).
    joiners.sort((a, b) => generation.get(a)! - generation.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
    const density = densities(base, options.densityCache);
    const dens = [...density].map(([id, d]) => `${id}=${d}`).join(',');
    const key = `${vnodes}|${baseHash >>> 0}|${base.length}|${othersHash >>> 0}|${tokenOf(joiners.join('\u0000'))}|${joiners.length}|${dens}`;
    return { base, cohort: joiners, exclude, density, baseHash: baseHash >>> 0, key, keyHash: tokenOf(key) };
  };

  // A cohort part of which has settled: its members' marks name the base and the inputs they settled on.
  const groups = new Map<string, typeof settled>();
  for (const s of settled) {
    if (s.mark?.phase !== 's' || s.mark.key === undefined) continue;
    const tag = `${s.mark.base}.${s.mark.key}`;
    const group = groups.get(tag);
    if (group) group.push(s);
    else groups.set(tag, [s]);
  }
  for (const tag of [...groups.keys()].sort()) {
    const group = groups.get(tag)!;
    const { base: b, key: k } = group[0].mark!;
    let groupHash = 0;
    for (const s of group) groupHash = (groupHash + s.hash) | 0;
    const baseHash = (allHash - groupHash) | 0;
    if (baseHash >>> 0 !== b) continue;
    const inGroup = new Set(group.map((s) => s.m.id));
    const view = build(
      settled.filter((s) => !inGroup.has(s.m.id)).map((s) => s.m),
      [...cohort, ...inGroup],
      baseHash,
    );
    if (view.keyHash === k) return view;
  }
  return build(
    settled.map((s) => s.m),
    cohort,
    allHash,
  );
}

/** The plan: every cohort member's tokens, as if they joined one at a time, oldest first (see allocateCohort). */
export function planCohort(view: CohortView, vnodes: number, cache?: CohortCache): ReadonlyMap<string, number[]> {
  return allocateCohort(
    {
      base: baseRing(view.base),
      cohort: view.cohort,
      vnodes,
      exclude: view.exclude,
      density: view.density,
    },
    cache,
    view.key,
  );
}

/**
 * The ring a node holds: settled members own the tokens they published, joiners what `planned` (the
 * plan over this node's view) gives them, and a joiner it does not plan for owns nothing.
 */
export function ringOfView(
  members: readonly PlannerMember[],
  planned: ReadonlyMap<string, readonly number[]>,
): TokenRing {
  return TokenRing.build(
    members.map((m) => ({
      id: m.id,
      status: m.status,
      replaces: m.replaces,
      tokens: planned.get(m.id) ?? (isJoining(m.join) ? [] : m.tokens),
    })),
  );
}

function baseRing(base: readonly PlannerMember[]): TokenRing {
  return TokenRing.build(base.map((m) => ({ id: m.id, status: 'up', tokens: m.tokens })));
}

/** Load densities of the base (empty when nobody reported a load: key space is the load). */
function densities(
  base: readonly PlannerMember[],
  cache: Map<string, ReadonlyMap<string, number>> | undefined,
): ReadonlyMap<string, number> {
  const loads = new Map<string, number>();
  let sig = 0;
  for (const m of base)
    if (m.load !== undefined && m.load > 0) {
      loads.set(m.id, m.load);
      sig = (sig + Math.imul(memberHash(m), 31) + tokenOf(`${m.id}=${m.load}`)) | 0;
    }
  if (loads.size === 0) return new Map();
  const key = `${sig}|${base.length}`;
  const hit = cache?.get(key);
  if (hit) return hit;
  const density = loadDensities(baseRing(base), loads);
  if (cache) {
    if (cache.size > 64) cache.delete(cache.keys().next().value!);
    cache.set(key, density);
  }
  return density;
}

function tokensHash(tokens: readonly number[]): number {
  let h = tokens.length;
  for (let i = 0; i < tokens.length; i++) h = (Math.imul(h ^ tokens[i], 0x9e3779b1) + 0x7f4a7c15) | 0;
  return h;
}

/** Order-free per member, so a base's hash is a sum and a group's can be taken out of it. */
function memberHash(m: PlannerMember): number {
  return Math.imul(tokenOf(m.id) ^ tokensHash(m.tokens), 0x85ebca6b) ^ 0x2545f491;
}
