import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { ShutdownService } from 'elastica';
import { ClusterPeerCaller } from '../cluster/cluster-peer-caller.js';
import { ElasticaCluster } from '../cluster/elastica-cluster.js';
import { KvNode } from '../replication/kv-node.js';
import { runDecommission, type DecommissionOutcome } from './decommission.js';
import { primaryBytes } from './primary-load.js';
import { KV_STORE_OPTIONS, STORAGE_ENGINE, type KvStoreOptions } from './kv-options.js';
import { keepTokens } from '../store/data-dir.js';
import type { StorageEngine } from '../store/storage-engine.js';

/**
 * The store on this node: the KvNode core, driven by timers and by the cluster's changes. Placement
 * rounds (anti-entropy with every peer, then handing over copies this node no longer replicates) run
 * one at a time: periodically, and soon after the ring changes or a member joins or comes back.
 */
@Injectable()
export class KvStoreService implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  readonly node: KvNode;
  private readonly logger = new Logger('kv-store');
  private readonly subscriptions: Subscription[] = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private gcTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private decommissioning: Promise<DecommissionOutcome> | undefined;
  /** How the last decommission of this process ended (shown by GET /admin/stats). */
  lastDecommission:
    | {
        status: DecommissionOutcome['status'];
        at: string;
        sent: number;
        undelivered: number;
        unplaced: number;
        failedTargets: string[];
      }
    | undefined;

  constructor(
    private readonly cluster: ElasticaCluster,
    peers: ClusterPeerCaller,
    @Inject(KV_STORE_OPTIONS) private readonly options: KvStoreOptions,
    private readonly shutdown: ShutdownService,
    @Inject(STORAGE_ENGINE) private readonly engine: StorageEngine,
  ) {
    this.node = new KvNode(
      cluster,
      peers,
      () => Date.now(),
      options.node,
      (level, message) => this.logger[level](message),
      engine,
    );
  }

  get isDecommissioning(): boolean {
    return this.decommissioning !== undefined;
  }

  onApplicationBootstrap(): void {
    this.subscriptions.push(
      this.cluster.ringChanges$.subscribe((what) => {
        this.node.noteRingChange();
        this.keepTokens();
        // Copies move until a placement round finds nothing to move (see round).
        this.cluster.reportHandoff(true);
        this.logger.log(`ring changed (${what}); rebalancing soon`);
        this.soon();
      }),
      this.cluster.catchUp$.subscribe(() => this.soon()),
    );
    void this.cluster.whenReady().then(() => this.keepTokens());
    this.startSyncTimer();
    // SIGTERM decommissions the node as POST /admin/leave does: its data goes to the remaining
    // replicas before it leaves (Elastica bounds this by shutdown.drainTimeoutMs).
    this.shutdown.beforeLeave(async () => {
      this.logger.log('SIGTERM: handing data over before leaving');
      const outcome = await this.decommission();
      if (outcome.status === 'aborted') this.logger.warn('SIGTERM: the handoff did not complete; leaving anyway');
    });
    this.gcTimer = setInterval(() => this.node.collectGarbage(), this.options.gcIntervalMs);
    this.gcTimer.unref();
  }

  onModuleDestroy(): void {
    this.closed = true;
    for (const s of this.subscriptions) s.unsubscribe();
    clearInterval(this.syncTimer);
    clearInterval(this.gcTimer);
    clearTimeout(this.soonTimer);
  }

  /** Closes the store once nothing uses it any more (pending writes are committed first). */
  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
  }

  /** This node's settled tokens go beside its data (they change only on a collision): see keepTokens. */
  private keepTokens(): void {
    if (!this.closed) keepTokens(this.engine, this.cluster.tokens());
  }

  /**
   * The bytes of the keys this node is the first replica of are its load (see primaryBytes): a joiner
   * takes its share from the nodes holding the most. Reported after every placement round (the
   * partitioner gossips it only when it moved by over 1%).
   */
  private reportLoad(): void {
    this.cluster.reportLoad(primaryBytes(this.node.storage, (key) => this.cluster.isPrimary(key)));
  }

  private startSyncTimer(): void {
    clearInterval(this.syncTimer);
    this.syncTimer = setInterval(() => void this.round(), this.options.syncIntervalMs);
    this.syncTimer.unref();
  }

  private soon(): void {
    if (this.soonTimer || this.closed) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      void this.round();
    }, this.options.changeDelayMs);
    this.soonTimer.unref();
  }

  /** Starts a placement round, or asks for one more after the running one. */
  round(): Promise<void> {
    if (this.closed || this.decommissioning) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        try {
          const r = await this.node.placementRound();
          this.reportLoad();
          const settled = r.pulled + r.pushed + r.handedOff + r.dropped === 0 && r.failedPeers.length === 0;
          if (settled && !this.again) this.cluster.reportHandoff(false);
          if (r.pulled + r.pushed + r.handedOff + r.dropped > 0) {
            this.logger.log(
              `rebalanced: pulled ${r.pulled}, pushed ${r.pushed}, handed over ${r.handedOff}, dropped ${r.dropped} copies${r.failedPeers.length ? `; failed with or refused by ${[...new Set(r.failedPeers)].join(', ')}` : ''}`,
            );
          }
        } catch (error) {
          this.logger.warn(`placement round failed: ${(error as Error).message}`);
        }
      } while (this.again && !this.closed && !this.decommissioning);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Decommission (see `runDecommission`): hand every copy to the replicas it has without this node,
   * retrying; announce the departure only if that was complete, then hand over again whatever arrived
   * meanwhile. An aborted decommission leaves the node a member, serving as before, and may be retried.
   */
  decommission(): Promise<DecommissionOutcome> {
    this.decommissioning ??= (async () => {
      clearInterval(this.syncTimer);
      this.cluster.reportHandoff(true);
      await this.running;
      const outcome = await runDecommission(
        {
          handOff: () => this.node.handOffAll(),
          leave: () => this.cluster.leave(),
          pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
          log: (level, message) => this.logger[level](message),
        },
        { attempts: this.options.handoffAttempts, retryDelayMs: 1000 },
      );
      const { sent, undelivered, unplaced, failedTargets } = outcome.handoff;
      this.lastDecommission = {
        status: outcome.status,
        at: new Date().toISOString(),
        sent,
        undelivered,
        unplaced,
        failedTargets,
      };
      if (outcome.status === 'aborted' && !this.closed) {
        this.decommissioning = undefined;
        this.startSyncTimer();
      }
      return outcome;
    })();
    return this.decommissioning;
  }
}
