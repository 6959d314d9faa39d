import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Subject, type Observable, type Subscription } from 'rxjs';
import type { LocalNode } from '../common/local-node.js';
import { RingNotReadyError } from '../errors/ring-not-ready.error.js';
import { GossipService } from '../gossip/gossip.service.js';
import { ELASTICA_OPTIONS, LOCAL_NODE } from '../elastica.constants.js';
import type { ResolvedElasticaOptions } from '../options/elastica-options.js';
import { formatHostPort } from '../common/host-port.js';
import { TOKEN_SPACE, tokenOf } from './hash.js';
import { diffRings } from './ring-diff.js';
import type { RingChange, TokenRange } from './ring.types.js';
import { decodeTokens, HANDBACK_PREFIX, JOIN_KEY, LOAD_KEY, REPLACES_KEY, TOKENS_KEY } from './token-codec.js';
import { isJoining, ringOfView } from './cohort-view.js';
import { TokenPlanner, type PlannerMember, type PlannerPhase, type PlannerStats } from './token-planner.js';
import { TokenRing } from './token-ring.js';

/** How far a load may move and still count as steady (see publishLoad). */
const STEADY_LOAD = 0.05;

function within(a: number, b: number, fraction: number): boolean {
  return Math.abs(a - b) <= fraction * Math.max(a, b);
}

/** What the partitioner reads from gossip: the contract's GossipService, typed loosely on purpose. */
export interface PartitionerMembership {
  readonly localNodeId: string;
  members(): readonly { id: string; status: string; generation: number; state: Record<string, string> }[];
  set(key: string, value: string): void;
  readonly events$: Observable<{ type: string; nodeId: string }>;
  readonly changes$: Observable<{ nodeId: string; key: string }>;
}

type Phase = 'waiting' | 'ready' | 'closed';

/**
 * The one-hop ring on the live membership. Every node builds the same ring from its view, so any
 * node finds a key's owner and replicas locally: settled members own the tokens they gossip under
 * `elastica.tokens`, and joiners own what the TokenPlanner's plan over the view gives them (every
 * node computes it; joiners publish tokens only once final). The ring is rebuilt (debounced) when
 * membership, tokens, join marks or loads change; lookups only read the current ring.
 *
 * Token choice is the TokenPlanner's (pure): this service feeds it the gossiped view on every tick and
 * change, publishes what it returns and logs its notices.
 */
@Injectable()
export class PartitionerService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Elastica:Partitioner');
  private readonly membership: PartitionerMembership;
  private readonly changes = new Subject<RingChange>();
  private readonly subscriptions: Subscription[] = [];
  private readonly tickMs: number;
  private readonly planner: TokenPlanner;
  private current = TokenRing.EMPTY;
  private ringVersion = 0;
  private phase: Phase = 'waiting';
  private latestLoad: number | undefined;
  /** The load reports have stayed within STEADY_LOAD of `load` since `since`: see publishLoad. */
  private steady: { load: number; since: number } | undefined;
  private publishedLoad: number | undefined;
  /** Since when this node's view has had no joiners (itself, or others it plans for); null while it has: see publishLoad. */
  private quietSince: number | null = null;
  private signature = '';
  private rebuildTimer: NodeJS.Timeout | undefined;
  /** See rebuild: a big cohort's plan is not recomputed on every change. */
  private rebuildNotBefore = 0;
  private tickTimer: NodeJS.Timeout | undefined;
  private readyWaiters: (() => void)[] = [];
  /** Decoded tokens per node, keyed by the gossiped text so unchanged state is not decoded again. */
  private readonly decoded = new Map<string, { text: string; tokens: number[] }>();
  private invalidStates = 0;
  private handoff = false;
  private ready = false;

  /** Every change of the ring: its new checksum and which ranges moved from which node to which. */
  readonly ring$: Observable<RingChange> = this.changes.asObservable();

  constructor(
    @Inject(ELASTICA_OPTIONS) private readonly options: ResolvedElasticaOptions,
    @Inject(LOCAL_NODE) private readonly local: LocalNode,
    @Inject(GossipService) gossip: GossipService,
  ) {
    this.membership = gossip;
    const interval = options.gossip.intervalMs;
    this.tickMs = Math.max(20, Math.min(500, interval / 2));
    const self = formatHostPort(local.address);
    this.planner = new TokenPlanner({
      nodeId: local.id,
      vnodes: options.partitioner.vnodes,
      intervalMs: interval,
      lone: !options.discovered && options.seeds.every((seed) => formatHostPort(seed) === self),
      replaces: options.partitioner.replaces,
      restoreTokens: options.partitioner.restoreTokens,
    });
  }

  get localNodeId(): string {
    return this.local.id;
  }

  /** The owner of `key`. Throws RingNotReadyError while no node owns anything. */
  getNode(key: string | Uint8Array): string {
    const owner = this.current.nodeFor(key);
    if (owner === undefined) throw new RingNotReadyError();
    return owner;
  }

  /** The owner of `key` then the next distinct nodes clockwise: `n` of them, or all nodes if fewer. */
  getReplicas(key: string | Uint8Array, n: number = this.options.partitioner.replicationFactor): string[] {
    if (this.current.isEmpty) throw new RingNotReadyError();
    return this.current.replicasForToken(tokenOf(key), n);
  }

  /** The ranges (start, end] that `nodeId` owns as primary. */
  getRanges(nodeId: string): TokenRange[] {
    return this.current.rangesOf(nodeId);
  }

  /** The owner of the range holding `token` (an unsigned 32-bit integer, as `tokenOf` returns). */
  getNodeForToken(token: number): string {
    if (!Number.isInteger(token) || token < 0 || token >= TOKEN_SPACE)
      throw new RangeError(`token must be an integer in [0, 2^32), got ${token}`);
    const owner = this.current.nodeForToken(token);
    if (owner === undefined) throw new RingNotReadyError();
    return owner;
  }

  /** Node id → fraction of the key space it owns as primary. */
  ownership(): Record<string, number> {
    return this.current.ownership();
  }

  isLocal(key: string | Uint8Array): boolean {
    return this.getNode(key) === this.local.id;
  }

  /** The current ring (immutable; a change replaces it). */
  get ring(): TokenRing {
    return this.current;
  }

  /** Same tokens and owners give the same checksum on every node. */
  get checksum(): number {
    return this.current.checksum;
  }

  /** This node's published tokens; empty until they settle (while it joins it owns its part of the plan). */
  get tokens(): readonly number[] {
    return this.planner.tokens;
  }

  /** Gossiped token states that could not be decoded (each logged once). */
  get invalidTokenStates(): number {
    return this.invalidStates;
  }

  /**
   * Resolves once this node's tokens are settled and published, and its ring is built (not empty).
   * A joiner owns its part of the plan before that (see `tokenPhase`), and its part may still change
   * while nodes that arrived together are being heard of; a rolling start that waits for each node's
   * readiness gets plain sequential joins.
   */
  whenReady(): Promise<void> {
    if (this.phase === 'ready' && !this.current.isEmpty) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  onModuleInit(): void {
    this.subscriptions.push(
      this.membership.events$.subscribe(() => this.scheduleRebuild()),
      this.membership.changes$.subscribe((c) => {
        if (c.key.startsWith('elastica.')) this.scheduleRebuild();
      }),
    );
    this.tickTimer = setInterval(() => this.tick(), this.tickMs);
    this.tickTimer.unref();
    this.tick();
  }

  onModuleDestroy(): void {
    this.phase = 'closed';
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.rebuildTimer) clearTimeout(this.rebuildTimer);
    for (const s of this.subscriptions) s.unsubscribe();
    this.changes.complete();
  }

  private scheduleRebuild(delayMs = 0): void {
    if (this.rebuildTimer || this.phase === 'closed') return;
    // Coalesces the burst of changes one gossip message brings into one rebuild.
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      this.tick();
    }, delayMs);
    this.rebuildTimer.unref();
  }

  /**
   * This node's load, any non-negative number the application chooses (bytes held, keys, requests/s):
   * gossiped, so that joiners take their share from the nodes with the most load. Load within
   * LOAD_MARGIN of what a node's key space predicts counts as key space. Published when it moves by
   * more than 1%, so calling this often is cheap; held back while this node sees joiners, and while
   * it is not steady (see publishLoad).
   */
  reportLoad(load: number): void {
    if (typeof load !== 'number' || !Number.isFinite(load) || load < 0)
      throw new RangeError(`reportLoad: load must be a finite non-negative number, got ${String(load)}`);
    const now = Date.now();
    this.latestLoad = load;
    if (this.steady === undefined || !within(load, this.steady.load, STEADY_LOAD)) this.steady = { load, since: now };
    this.publishLoad(now);
  }

  /**
   * The application says whether it is moving data between nodes after a ring change (a handoff):
   * `ElasticaHealthIndicator.isSafeToStop` answers down meanwhile, so that an orchestrator does not
   * stop a second node while the first one's copies are still in flight. Local only, not gossiped.
   */
  reportHandoff(inProgress: boolean): void {
    this.handoff = inProgress;
  }

  /** What the application last said with reportHandoff. */
  get handoffInProgress(): boolean {
    return this.handoff;
  }

  /** Whether whenReady() has resolved: this node's tokens are settled and published, and its ring is built. */
  get isReady(): boolean {
    return this.ready;
  }

  /** How many times the ring changed here since start (the version of the last RingChange). */
  get version(): number {
    return this.ringVersion;
  }

  /** The last load the application reported, if any (published or held back). */
  get load(): number | undefined {
    return this.latestLoad;
  }

  /**
   * The joiners' plan weighs the settled nodes' loads against their key space in the settled ring,
   * but an application measures its load against the ring in force, which already gives the joiners
   * their parts: published then, a donor's load would fall as the plan takes from it, the plan would
   * change, and so on. So a load is published only once this node has seen nobody joining for the
   * settle wait (5 intervals): measured then, it is against the settled ring, and the nodes that are
   * a little behind, still seeing the last joiners settle, have seen them settle too (a load that
   * changed under their feet would break the match that keeps settling from moving ranges).
   *
   * And only a steady load (within 5% for the settle wait): each node's report is a snapshot taken
   * when its own placement round ends, so while data pours in (a bulk load, a burst of writes) the
   * snapshots of equal nodes a few seconds apart differ by the growth in between, far beyond the
   * ±25% margin, and a joiner would relieve whichever node reported last. Held back, the loads
   * published are older but comparable, or there are none and key space is the load.
   */
  private publishLoad(now = Date.now()): void {
    const load = this.latestLoad;
    if (load === undefined || this.phase === 'closed' || this.quietSince === null) return;
    // The tick comes back to it.
    if (now - this.quietSince < this.planner.settleMs || now - this.steady!.since < this.planner.settleMs) return;
    const last = this.publishedLoad;
    if (last !== undefined && within(load, last, 0.01) && (load === 0) === (last === 0)) return;
    this.publishedLoad = load;
    this.membership.set(LOAD_KEY, String(Number(load.toPrecision(6))));
  }

  /** Where this node's tokens stand: waiting (owns nothing yet), provisional (owns its part of the joiners' plan), settled (final, published). */
  get tokenPhase(): PlannerPhase {
    return this.planner.phase;
  }

  /** Changes of this node's plan while it joined, when it started owning its part, when it settled (see TokenPlanner). */
  get plannerStats(): Readonly<PlannerStats> {
    return this.planner.stats;
  }

  /** Exposed for tests: reconcile with gossip now (rebuild if anything changed; let the planner choose when due). */
  tick(): void {
    if (this.phase === 'closed') return;
    const now = Date.now();
    const seen = this.readMembers();
    const output = this.planner.step(seen, now);
    for (const notice of output.notices) this.logger[notice.level](notice.message);
    for (const [key, value] of output.publish) {
      try {
        this.membership.set(key, value);
      } catch (error) {
        // A handback that does not fit gossip.maxStateBytes: the restarted node splits anew instead.
        if (!(error instanceof RangeError)) throw error;
        this.logger.warn(`cannot publish ${key}: ${error.message}`);
      }
    }
    // The ring is built on this node's state as just published (its settled tokens, say).
    const members = output.publish.length > 0 ? this.readMembers() : seen;
    // Everything the ring depends on: the members, their tokens and marks, loads (they weigh the
    // joiners' plan) and this node's phase (it owns its part of the plan only once started).
    // (Of a joiner's mark only "joining" counts: the hashes in it are for the joiners' own agreement.)
    const signature = members
      .map(
        (m) =>
          `${m.id}\u0000${m.status}\u0000${m.generation}\u0000${m.tokensText}\u0000${m.replaces ?? ''}\u0000${isJoining(m.join) ? 'p' : (m.join ?? '')}\u0000${m.load ?? ''}`,
      )
      .join('\u0001')
      .concat(`\u0002${this.planner.phase}`);
    if (signature !== this.signature) {
      if (now < this.rebuildNotBefore) this.scheduleRebuild(this.rebuildNotBefore - now);
      else {
        this.signature = signature;
        this.rebuild(members);
      }
    }
    if (this.phase === 'waiting' && this.planner.tokens.length > 0 && this.planner.phase === 'settled') {
      this.phase = 'ready';
      this.rebuild(members);
    }
    this.publishLoad();
  }

  private readMembers(): (PlannerMember & { tokensText: string })[] {
    return this.membership.members().map((m) => {
      const text = m.state[TOKENS_KEY] ?? '';
      let tokens: number[] = [];
      if (text) {
        const cached = this.decoded.get(m.id);
        if (cached && cached.text === text) tokens = cached.tokens;
        else {
          try {
            tokens = decodeTokens(text);
          } catch (err) {
            this.invalidStates++;
            this.logger.error(
              `node ${m.id} gossips tokens this node cannot read, so it owns nothing here: ${(err as Error).message}`,
            );
          }
          this.decoded.set(m.id, { text, tokens });
        }
      }
      const load = m.state[LOAD_KEY] ? Number(m.state[LOAD_KEY]) : undefined;
      return {
        id: m.id,
        status: m.status,
        generation: m.generation,
        tokens,
        tokensText: text,
        replaces: m.state[REPLACES_KEY] || undefined,
        join: m.state[JOIN_KEY] || undefined,
        handback: m.state[HANDBACK_PREFIX + this.local.id] || undefined,
        load: load !== undefined && Number.isFinite(load) && load >= 0 ? load : undefined,
      };
    });
  }

  private rebuild(members: readonly (PlannerMember & { tokensText: string })[]): void {
    // Joiners own what the plan over this view gives them; they publish tokens only once final.
    const started = performance.now();
    const planned = this.planner.ownedTokens(members);
    if (planned.size > 0 || this.planner.phase !== 'settled') this.quietSince = null;
    else this.quietSince ??= Date.now();
    const next = ringOfView(members, planned);
    // Planning hundreds of joiners over a thousand nodes takes up to a second, and while they arrive
    // the view changes on every gossip exchange: the next plan waits 4x this one's cost (a fifth of
    // a core at most). A cluster of tens of nodes plans in well under a millisecond and never waits.
    const cost = performance.now() - started;
    this.rebuildNotBefore = cost > 20 ? Date.now() + 4 * cost : 0;
    const before = this.current;
    if (
      next.checksum !== before.checksum ||
      next.size !== before.size ||
      next.nodeIds.join() !== before.nodeIds.join()
    ) {
      this.current = next;
      this.ringVersion++;
      const moved = diffRings(before, next);
      this.changes.next({
        version: this.ringVersion,
        checksum: next.checksum,
        previousChecksum: before.checksum,
        moved,
        nodes: [...next.nodeIds],
      });
    }
    if (this.phase === 'ready' && !this.current.isEmpty) {
      this.ready = true;
      for (const resolve of this.readyWaiters.splice(0)) resolve();
    }
  }
}
