import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import {
  ELASTICA_OPTIONS,
  FailureDetectorService,
  GossipService,
  LOAD_KEY,
  PartitionerService,
  REPLACES_KEY,
  TOKENS_KEY,
  type ResolvedElasticaOptions,
  type TokenRing,
} from 'elastica';
import { filter, map, merge, type Observable, type Subscription } from 'rxjs';
import type { KvCluster } from '../replication/kv-node.js';
import { countRingMembers } from './ring-members.js';

/** A member as `GET /cluster` shows it. */
export interface MemberView {
  id: string;
  address: string;
  status: string;
  phi: number | null;
  generation: number;
  /** The load it reports to the partitioner (bytes of the keys it is the first replica of), if any yet. */
  load: number | null;
  /** The Elastica version it runs, and its application version, as gossiped (null until known). */
  version: string | null;
  appVersion: string | null;
}

/** `GET /cluster`: the contract's shape, plus the token ranges (as fractions of the ring) and the threshold. */
export interface ClusterSnapshot {
  self: string;
  members: MemberView[];
  ring: {
    ownership: Record<string, number>;
    ranges: Record<string, [number, number][]>;
    /** This node's tokens are settled (`PartitionerService.whenReady`); before, it owns its part of the joiners' plan. */
    ready: boolean;
  };
  threshold: number;
  replicationFactor: number;
}

export interface MembershipEvent {
  type: string;
  nodeId: string;
}

/** Statuses of members that answer requests (a leaving node still does, while it hands its data over). */
const REACHABLE = new Set(['joining', 'up', 'leaving']);
/** Membership events after which a node may be missing data it should hold. */
const CATCH_UP_EVENTS = new Set(['joined', 'up', 'restarted']);
const TOKEN_SPACE = 2 ** 32;

function formatAddress(address: unknown): string {
  if (typeof address === 'string') return address;
  if (address !== null && typeof address === 'object' && 'host' in address && 'port' in address)
    return `${String(address.host)}:${String(address.port)}`;
  return String(address);
}

/**
 * The store's one window on Elastica: gossip membership, the failure detector and the ring, through
 * the public API only. Everything else in the app talks to this (and to ClusterPeerCaller), so the
 * replication logic depends on the small KvCluster interface rather than on the library.
 */
@Injectable()
export class ElasticaCluster implements KvCluster, OnModuleDestroy {
  readonly replicationFactor: number;
  /** ringMembers() is asked on every request; it changes only with the ring, statuses, tokens or replacements. */
  private ringMembersCache: { ring: TokenRing; count: number } | undefined;
  private readonly invalidations: Subscription;

  /** Every change of the ring (ranges moved between nodes). */
  readonly ringChanges$: Observable<string>;
  /** Membership events: joined, up, down, restarted, leaving, left. */
  readonly events$: Observable<MembershipEvent>;
  /** A member joined or came back: it may lack data it should hold. */
  readonly catchUp$: Observable<MembershipEvent>;

  constructor(
    private readonly gossip: GossipService,
    private readonly detector: FailureDetectorService,
    private readonly partitioner: PartitionerService,
    @Inject(ELASTICA_OPTIONS) options: ResolvedElasticaOptions,
  ) {
    this.replicationFactor = options.partitioner.replicationFactor;
    this.ringChanges$ = this.partitioner.ring$.pipe(
      map((change) => {
        const moved = (change as { moved?: unknown[] }).moved;
        return Array.isArray(moved) ? `${moved.length} range(s) moved` : 'the ring changed';
      }),
    );
    this.events$ = this.gossip.events$.pipe(map((e) => ({ type: String(e.type), nodeId: String(e.nodeId) })));
    this.catchUp$ = this.events$.pipe(filter((e) => CATCH_UP_EVENTS.has(e.type)));
    this.invalidations = merge(
      this.gossip.events$,
      this.gossip.changes$.pipe(filter((c) => c.key === TOKENS_KEY || c.key === REPLACES_KEY)),
    ).subscribe(() => (this.ringMembersCache = undefined));
  }

  onModuleDestroy(): void {
    this.invalidations.unsubscribe();
  }

  get self(): string {
    return this.gossip.localNodeId;
  }

  ringMembers(): number {
    const ring = this.partitioner.ring;
    if (this.ringMembersCache?.ring !== ring)
      this.ringMembersCache = { ring, count: countRingMembers(this.gossip.members(), ring.nodeIds) };
    return this.ringMembersCache.count;
  }

  replicasOf(key: string): readonly string[] {
    try {
      return this.partitioner.getReplicas(key);
    } catch {
      return []; // the ring is not ready yet: the quorum then fails with a clear 503
    }
  }

  candidatesOf(key: string): readonly string[] {
    try {
      return this.partitioner.getReplicas(key, this.replicationFactor + 2);
    } catch {
      return [];
    }
  }

  replicasWithout(key: string, nodeId: string): readonly string[] {
    try {
      return this.partitioner
        .getReplicas(key, this.replicationFactor + 1)
        .filter((id) => id !== nodeId)
        .slice(0, this.replicationFactor);
    } catch {
      return [];
    }
  }

  isReachable(nodeId: string): boolean {
    if (nodeId === this.self) return true;
    const member = this.gossip.members().find((m) => m.id === nodeId);
    return member !== undefined && REACHABLE.has(member.status);
  }

  peers(): readonly string[] {
    return this.gossip
      .members()
      .filter((m) => m.id !== this.self && REACHABLE.has(m.status))
      .map((m) => m.id);
  }

  /** Publishes this node's load (see primaryBytes), so joiners relieve the fullest nodes first. */
  reportLoad(bytes: number): void {
    this.partitioner.reportLoad(bytes);
  }

  /** Tells the partitioner (and so the "safe to stop" probe) whether copies are moving after a ring change. */
  reportHandoff(inProgress: boolean): void {
    this.partitioner.reportHandoff(inProgress);
  }

  /** Whether this node is the key's first replica; false while the ring is not ready. */
  isPrimary(key: string): boolean {
    try {
      return this.partitioner.isLocal(key);
    } catch {
      return false;
    }
  }

  /** This node's settled tokens (empty until they settle): kept beside its data across restarts. */
  tokens(): readonly number[] {
    return this.partitioner.tokenPhase === 'settled' ? this.partitioner.tokens : [];
  }

  /** Resolves once this node's tokens are settled and its ring is built. */
  whenReady(): Promise<void> {
    return this.partitioner.whenReady();
  }

  /** Announces this node's departure; resolves once peers have it. */
  leave(): Promise<void> {
    return this.gossip.leave();
  }

  snapshot(): ClusterSnapshot {
    const self = this.self;
    const members = this.gossip.members().map((m): MemberView => {
      const phi = m.id === self ? 0 : this.detector.phi(m.id);
      const load = Number(m.state[LOAD_KEY] ?? NaN);
      return {
        id: m.id,
        address: formatAddress(m.address),
        status: m.status,
        phi: Number.isFinite(phi) ? Math.round(phi * 100) / 100 : null,
        generation: m.generation,
        load: Number.isFinite(load) ? load : null,
        version: m.version ?? null,
        appVersion: m.appVersion ?? null,
      };
    });
    const ownership = this.partitioner.ownership();
    const ranges: Record<string, [number, number][]> = {};
    for (const id of Object.keys(ownership)) {
      ranges[id] = [];
      for (const { start, end } of this.partitioner.getRanges(id)) {
        // (start, end], wrapping past the top; start === end is the whole ring.
        if (start === end) ranges[id].push([0, 1]);
        else if (start < end) ranges[id].push([start / TOKEN_SPACE, end / TOKEN_SPACE]);
        else ranges[id].push([start / TOKEN_SPACE, 1], [0, end / TOKEN_SPACE]);
      }
    }
    return {
      self,
      members,
      ring: { ownership, ranges, ready: this.partitioner.tokenPhase === 'settled' && !this.partitioner.ring.isEmpty },
      threshold: this.detector.threshold,
      replicationFactor: this.replicationFactor,
    };
  }
}
