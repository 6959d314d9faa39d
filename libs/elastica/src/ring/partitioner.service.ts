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
import type { RingChange, RingMember, TokenRange } from './ring.types.js';
import { decodeTokens, encodeTokens, HANDBACK_PREFIX, REPLACES_KEY, TOKENS_KEY } from './token-codec.js';
import { allocateTokens } from './token-allocation.js';
import { TokenRing } from './token-ring.js';

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
 * The one-hop ring on the live membership. Every node builds the same ring from the tokens its peers
 * gossip under `elastica.tokens`, so any node finds a key's owner and replicas locally. The ring is
 * rebuilt (debounced) when membership or tokens change; lookups only read the current ring.
 *
 * Token choice, once per run: wait until the cluster has been heard and the view has settled, then
 * take the down node's tokens (`partitioner.replaces`), or this node's tokens from its previous run (a
 * peer hands them back), or else new ones that split the most loaded ranges. They never change after,
 * except a token lost to an exact collision with another node (the smaller id keeps it).
 */
@Injectable()
export class PartitionerService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Elastica:Partitioner');
  private readonly membership: PartitionerMembership;
  private readonly changes = new Subject<RingChange>();
  private readonly subscriptions: Subscription[] = [];
  private readonly tickMs: number;
  private readonly settleMs: number;
  private readonly joinWaitMs: number;
  private readonly lone: boolean;
  private current = TokenRing.EMPTY;
  private ringVersion = 0;
  private phase: Phase = 'waiting';
  private myTokens: number[] = [];
  private startedAt = 0;
  private viewChangedAt = 0;
  private signature = '';
  private rebuildTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private readyWaiters: (() => void)[] = [];
  /** Decoded tokens per node, keyed by the gossiped text so unchanged state is not decoded again. */
  private readonly decoded = new Map<string, { text: string; tokens: number[] }>();
  /** The last tokens seen of every node and the generation that held them; kept after a restart wipes its state. */
  private readonly lastKnown = new Map<string, { generation: number; tokens: number[] }>();
  private readonly handbacks = new Set<string>();
  private invalidStates = 0;

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
    this.settleMs = 3 * interval;
    this.joinWaitMs = 5 * interval;
    const self = formatHostPort(local.address);
    this.lone = options.seeds.every((seed) => formatHostPort(seed) === self);
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

  /** This node's tokens; empty until chosen. */
  get tokens(): readonly number[] {
    return this.myTokens;
  }

  /** Gossiped token states that could not be decoded (each logged once). */
  get invalidTokenStates(): number {
    return this.invalidStates;
  }

  /** Resolves once this node has chosen its tokens and the ring is not empty. */
  whenReady(): Promise<void> {
    if (this.phase === 'ready' && !this.current.isEmpty) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  onModuleInit(): void {
    this.startedAt = Date.now();
    this.viewChangedAt = this.startedAt;
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

  private scheduleRebuild(): void {
    if (this.rebuildTimer || this.phase === 'closed') return;
    // Coalesces the burst of changes one gossip message brings into one rebuild.
    this.rebuildTimer = setTimeout(() => {
      this.rebuildTimer = undefined;
      this.tick();
    }, 0);
    this.rebuildTimer.unref();
  }

  /** Exposed for tests: reconcile with gossip now (rebuild if anything changed; choose tokens when due). */
  tick(): void {
    if (this.phase === 'closed') return;
    const now = Date.now();
    const members = this.readMembers();
    const signature = members
      .map(
        (m) =>
          `${m.id}\u0000${m.status}\u0000${m.generation}\u0000${m.tokensText}\u0000${m.replaces ?? ''}\u0000${m.handback ?? ''}`,
      )
      .join('\u0001');
    if (signature !== this.signature) {
      this.signature = signature;
      this.viewChangedAt = now;
      this.rebuild(members);
      this.serveHandbacks(members);
    }
    if (this.phase === 'waiting' && this.dueToChoose(members, now)) {
      this.chooseTokens(members);
      this.signature = '';
      this.tick();
    }
  }

  private readMembers() {
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
        if (tokens.length > 0) this.lastKnown.set(m.id, { generation: m.generation, tokens });
      }
      return {
        id: m.id,
        status: m.status,
        generation: m.generation,
        tokens,
        tokensText: text,
        replaces: m.state[REPLACES_KEY] || undefined,
        handback: m.state[HANDBACK_PREFIX + this.local.id] || undefined,
      };
    });
  }

  private rebuild(members: ReturnType<PartitionerService['readMembers']>): void {
    const ringMembers: RingMember[] = members.map((m) => ({
      id: m.id,
      status: m.status,
      replaces: m.replaces,
      // Until gossip echoes this node's own state back, use the tokens it has chosen.
      tokens: m.id === this.local.id && this.myTokens.length > 0 ? this.myTokens : m.tokens,
    }));
    const next = TokenRing.build(ringMembers);
    this.repickLostTokens(next);
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
      for (const resolve of this.readyWaiters.splice(0)) resolve();
    }
  }

  private dueToChoose(members: ReturnType<PartitionerService['readMembers']>, now: number): boolean {
    if (this.lone && !this.options.partitioner.replaces) return true;
    const heard = members.some((m) => m.id !== this.local.id && (m.tokens.length > 0 || m.status === 'up'));
    const waited = now - this.startedAt;
    if (this.options.partitioner.replaces && !this.lastKnown.has(this.options.partitioner.replaces)) {
      // Replacing needs the down node's tokens: give gossip longer to bring them.
      return waited >= 6 * this.joinWaitMs;
    }
    if (!heard) return waited >= this.joinWaitMs;
    // Nodes starting together choose one after the other, smallest id first, so each splits the ring
    // the previous ones made instead of all placing tokens blind (bounded, in case one never does).
    const earlier = members.some(
      (m) => m.id < this.local.id && m.tokens.length === 0 && (m.status === 'up' || m.status === 'joining'),
    );
    if (earlier && waited < 3 * this.joinWaitMs) return false;
    // Heard: let the view settle (everyone's tokens, and a handback if this is a restart) before choosing.
    return (
      members.some((m) => m.handback) || now - this.viewChangedAt >= this.settleMs || waited >= 3 * this.joinWaitMs
    );
  }

  private chooseTokens(members: ReturnType<PartitionerService['readMembers']>): void {
    const replaces = this.options.partitioner.replaces;
    let tokens: number[] | undefined;
    if (replaces) {
      const target = members.find((m) => m.id === replaces);
      const known = this.lastKnown.get(replaces);
      if (target && (target.status === 'up' || target.status === 'leaving')) {
        this.logger.error(
          `partitioner.replaces names ${replaces}, which is ${target.status}: only a down node can be replaced; choosing new tokens instead`,
        );
      } else if (!known) {
        this.logger.error(
          `partitioner.replaces names ${replaces}, whose tokens this node never heard of; choosing new tokens instead`,
        );
      } else {
        tokens = known.tokens;
        this.membership.set(REPLACES_KEY, replaces);
        this.logger.log(`replacing ${replaces}: taking over its ${tokens.length} tokens`);
      }
    }
    if (!tokens) {
      const handback = members.find((m) => m.handback)?.handback;
      if (handback) {
        try {
          tokens = decodeTokens(handback);
          this.logger.log(`restarted: took back the ${tokens.length} tokens of this node's previous run`);
        } catch (err) {
          this.invalidStates++;
          this.logger.error(`a peer handed back tokens this node cannot read: ${(err as Error).message}`);
        }
      }
    }
    if (!tokens) {
      const view = this.allocationView(members);
      tokens = allocateTokens(view, this.local.id, this.options.partitioner.vnodes, this.allKnownTokens());
      this.logger.log(`chose ${tokens.length} tokens splitting the most loaded ranges of ${view.nodeIds.length} nodes`);
    }
    this.myTokens = [...tokens].sort((a, b) => a - b);
    this.membership.set(TOKENS_KEY, encodeTokens(this.myTokens));
    this.phase = 'ready';
  }

  /**
   * The ring a joiner splits: every node that holds tokens and is staying (up, down for now, or
   * joining with tokens already chosen); leaving nodes are not worth splitting, their ranges move anyway.
   */
  private allocationView(members: ReturnType<PartitionerService['readMembers']>): TokenRing {
    const replaced = new Set(members.filter((m) => m.replaces).map((m) => m.replaces!));
    return TokenRing.build(
      members
        .filter((m) => m.id !== this.local.id && !replaced.has(m.id) && ['up', 'down', 'joining'].includes(m.status))
        .map((m) => ({ id: m.id, status: 'up', tokens: m.tokens })),
    );
  }

  private allKnownTokens(): Set<number> {
    const out = new Set<number>();
    for (const { tokens } of this.lastKnown.values()) for (const t of tokens) out.add(t);
    return out;
  }

  /** A token another node won (same token, smaller id) is replaced by the next free token after it. */
  private repickLostTokens(ring: TokenRing): void {
    const lost = ring.collisions.filter((c) => c.loser === this.local.id).map((c) => c.token);
    if (lost.length === 0 || this.myTokens.length === 0) return;
    const taken = this.allKnownTokens();
    for (const t of this.myTokens) taken.add(t);
    const lostSet = new Set(lost);
    this.myTokens = this.myTokens
      .map((t) => {
        if (!lostSet.has(t)) return t;
        let next = (t + 1) % TOKEN_SPACE;
        while (taken.has(next)) next = (next + 1) % TOKEN_SPACE;
        taken.add(next);
        return next;
      })
      .sort((a, b) => a - b);
    this.logger.warn(`${lost.length} of this node's tokens collided with another node's; moved them to free tokens`);
    this.membership.set(TOKENS_KEY, encodeTokens(this.myTokens));
    this.signature = '';
  }

  /**
   * A node that restarted with the same id has lost its tokens (its new generation's state replaced
   * the old). One peer (the current owner of its first old token) hands them back through gossip, so
   * its ranges return to it instead of being split anew; the handback is withdrawn once it has tokens.
   */
  private serveHandbacks(members: ReturnType<PartitionerService['readMembers']>): void {
    if (this.phase !== 'ready') return;
    const byId = new Map(members.map((m) => [m.id, m]));
    const replaced = new Set(members.filter((m) => m.replaces).map((m) => m.replaces!));
    for (const [id, known] of this.lastKnown) {
      const m = byId.get(id);
      if (!m || id === this.local.id) continue;
      const restarted =
        m.generation > known.generation && m.tokens.length === 0 && (m.status === 'joining' || m.status === 'up');
      const key = HANDBACK_PREFIX + id;
      if (restarted && !replaced.has(id) && this.current.nodeForToken(known.tokens[0]) === this.local.id) {
        if (!this.handbacks.has(id)) {
          // A withdrawn handback stays as an empty key (gossip has no delete), so a long life of
          // restarts under ever new ids can fill gossip.maxStateBytes: then the restarted node just
          // takes new tokens by the usual split.
          try {
            this.membership.set(key, encodeTokens(known.tokens));
          } catch (error) {
            if (!(error instanceof RangeError)) throw error;
            this.logger.warn(`node ${id} restarted; cannot hand back its tokens: ${error.message}`);
            continue;
          }
          this.handbacks.add(id);
          this.logger.log(`node ${id} restarted; handing back the tokens of its previous run`);
        }
      } else if (this.handbacks.has(id) && !restarted) {
        this.handbacks.delete(id);
        this.membership.set(key, '');
      }
    }
  }
}
