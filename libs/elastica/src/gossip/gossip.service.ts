import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import type { Clock } from '../common/clock.js';
import type { LocalNode } from '../common/local-node.js';
import {
  APP_VERSION_KEY,
  CLOCK,
  ELASTICA_OPTIONS,
  GOSSIP_CHANNEL,
  LIBRARY_VERSION,
  LOCAL_NODE,
  SEED_LOOKUPS,
  VERSION_KEY,
} from '../elastica.constants.js';
import { SeededRandom } from '../common/random.js';
import { FailureDetectorService } from '../failure-detector/failure-detector.service.js';
import type { GossipChannel } from '../network/gossip-channel.js';
import type { ResolvedElasticaOptions } from '../options/elastica-options.js';
import { formatHostPort } from '../common/host-port.js';
import { GossipNode, type GossipStats, type LeavePhase, type Outgoing } from './gossip-node.js';
import { SeedDiscovery } from '../discovery/seed-discovery.js';
import { SeedResolver, systemLookups, type SeedLookups } from '../discovery/seed-resolver.js';
import type { Member, MembershipEvent, StateChange } from './gossip.types.js';

/**
 * This node's membership and versioned state, gossiped Scuttlebutt-style over GOSSIP_CHANNEL: a thin
 * Nest shell over the pure GossipNode, on a timer, feeding FailureDetectorService and judged by it.
 * Keys prefixed `elastica.` are reserved for the library (the ring's `elastica.tokens`, for one).
 */
@Injectable()
export class GossipService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Elastica:Gossip');
  private readonly core: GossipNode;
  private readonly events = new Subject<MembershipEvent>();
  private readonly changes = new Subject<StateChange>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private leaving: Promise<void> | undefined;
  private leaveDone: (() => void) | undefined;
  /** Set when some seed must be looked up (a name, `dns:`, `srv:`, a provider). */
  private readonly discovery: SeedDiscovery | undefined;

  /** Membership changes as this node sees them, this node's own included. */
  readonly events$: Observable<MembershipEvent> = this.events.asObservable();
  /** Every state change, local or remote, including each key of a state replaced by a restart. */
  readonly changes$: Observable<StateChange> = this.changes.asObservable();

  constructor(
    @Inject(ELASTICA_OPTIONS) private readonly options: ResolvedElasticaOptions,
    @Inject(LOCAL_NODE) local: LocalNode,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GOSSIP_CHANNEL) private readonly channel: GossipChannel,
    detector: FailureDetectorService,
    @Optional() @Inject(SEED_LOOKUPS) lookups?: () => SeedLookups,
  ) {
    const resolver = new SeedResolver(
      options.seedSources,
      options.discovery.lookupTimeoutMs,
      lookups ?? systemLookups(options.discovery.lookupTimeoutMs),
      (level, message) => (level === 'warn' ? this.logger.warn(message) : this.logger.log(message)),
    );
    this.core = new GossipNode({
      id: local.id,
      address: formatHostPort(local.address),
      generation: local.generation,
      // Addresses only: names are looked up here, in the shell, and handed over as they resolve.
      seeds: resolver.needed ? [] : options.seeds.map(formatHostPort),
      seedsPending: resolver.needed,
      bootstrap: options.discovered ? options.bootstrap : undefined,
      options: options.gossip,
      random: SeededRandom.fromEntropy(),
      liveness: {
        heartbeat: (nodeId, generation) => detector.heartbeat(nodeId, generation),
        isAvailable: (nodeId) => detector.isAvailable(nodeId),
        remove: (nodeId) => detector.remove(nodeId),
        suspicion: (nodeId) => detector.phi(nodeId) / detector.threshold,
        mayConvict: () => !detector.isMuted(),
      },
      listener: {
        event: (event) => {
          if (event.nodeId !== local.id || event.type !== 'joined') {
            const line = `node ${event.nodeId} ${event.type}`;
            if (event.type === 'down') this.logger.warn(`${line} (phi ${detector.phi(event.nodeId).toFixed(1)})`);
            else this.logger.log(line);
          }
          if (event.type === 'down') {
            // Its connection may be stuck behind TCP's retransmission backoff (a partition): redial
            // instead, once this tick is done (see GossipChannel.reset).
            const address = this.core.member(event.nodeId)?.address;
            if (address !== undefined)
              queueMicrotask(() => this.channel.reset?.(address, `node ${event.nodeId} judged down`));
          }
          this.events.next(event);
        },
        change: (change) => this.changes.next(change),
        notice: (level, message) => (level === 'warn' ? this.logger.warn(message) : this.logger.log(message)),
      },
    });
    if (resolver.needed)
      this.discovery = new SeedDiscovery(
        resolver,
        { retryMinMs: options.gossip.seedRetryMinMs, retryMaxMs: options.gossip.seedRetryMaxMs },
        (addresses) => {
          if (this.running) this.core.replaceSeeds(addresses);
        },
        () => clock.now(),
      );
  }

  get localNodeId(): string {
    return this.core.id;
  }

  /** Publishes `key` = `value` in this node's gossiped state. */
  set(key: string, value: string): void {
    this.core.set(key, value, this.clock.now());
  }

  get(nodeId: string, key: string): string | undefined {
    return this.core.get(nodeId, key);
  }

  members(): Member[] {
    return this.core.members();
  }

  member(nodeId: string): Member | undefined {
    return this.core.member(nodeId);
  }

  /** Counters: messages and bytes each way, malformed input dropped, refused generations/versions/verdicts, refutations, adopted verdicts. */
  get stats(): Readonly<GossipStats> {
    return this.core.stats;
  }

  get leavePhase(): LeavePhase {
    return this.core.phase;
  }

  /**
   * Leaves the cluster gracefully: announces `leaving`, waits until peers have it, announces `left`,
   * waits again, then stops gossiping. Bounded by `gossip.leaveTimeoutMs`.
   */
  leave(): Promise<void> {
    if (this.leaving) return this.leaving;
    this.leaving = new Promise<void>((resolve) => {
      this.leaveDone = resolve;
    });
    this.send(this.core.leave(this.clock.now()));
    if (!this.running) this.finishLeave();
    return this.leaving;
  }

  /**
   * Removes `nodeId`, which this node judges down, from the cluster now (as `nodetool removenode`):
   * every node drops it within a few gossip rounds and its ranges move. Rejects with NodeNotDownError
   * when it is not down here (a live node leaves instead), UnknownNodeError when it is not a member.
   */
  forget(nodeId: string): Promise<void> {
    return new Promise((resolve) => {
      this.core.forget(nodeId, this.clock.now());
      resolve();
    });
  }

  onApplicationBootstrap(): void {
    // Shown in every member's entry, so a rolling upgrade can be watched (docs/ARCHITECTURE.md, "Protocol
    // versions"). Set here rather than in the constructor, so that changes$ subscribers made meanwhile see them.
    this.core.set(VERSION_KEY, LIBRARY_VERSION, this.clock.now());
    if (this.options.appVersion !== undefined)
      this.core.set(APP_VERSION_KEY, this.options.appVersion, this.clock.now());
    this.channel.onMessage((from, bytes) => {
      if (!this.running) return;
      try {
        this.send(this.core.receive(from, bytes, this.clock.now()));
      } catch (error) {
        this.logger.error(`gossip from ${from} failed: ${(error as Error).message}`);
      }
    });
    this.channel.onSelfAddress?.((address) => this.core.forgetSeed(address));
    this.running = true;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.gossip.intervalMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    this.running = false;
    this.discovery?.stop();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.finishLeave();
    this.events.complete();
    this.changes.complete();
  }

  private tick(): void {
    if (!this.running) return;
    this.send(this.core.tick(this.clock.now()));
    this.discovery?.round(this.core.seedRetries, this.core.member(this.core.id)?.status === 'joining');
    if (this.core.phase === 'done') {
      this.logger.log(`node ${this.core.id} left the cluster`);
      this.running = false;
      if (this.timer) clearInterval(this.timer);
      this.timer = undefined;
      this.finishLeave();
    }
  }

  private finishLeave(): void {
    this.leaveDone?.();
    this.leaveDone = undefined;
  }

  private send(out: Outgoing[]): void {
    for (const message of out) this.channel.send(message.to, message.bytes);
  }
}
