import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { ClusterPeerCaller } from '../cluster/cluster-peer-caller.js';
import { ElasticaCluster } from '../cluster/elastica-cluster.js';
import { KvNode, type HandoffResult } from '../replication/kv-node.js';
import { KV_STORE_OPTIONS, type KvStoreOptions } from './kv-options.js';

/**
 * The store on this node: the KvNode core, driven by timers and by the cluster's changes. Placement
 * rounds (anti-entropy with every peer, then handing over copies this node no longer replicates) run
 * one at a time: periodically, and soon after the ring changes or a member joins or comes back.
 */
@Injectable()
export class KvStoreService implements OnApplicationBootstrap, OnModuleDestroy {
  readonly node: KvNode;
  private readonly logger = new Logger('kv-store');
  private readonly subscriptions: Subscription[] = [];
  private syncTimer: NodeJS.Timeout | undefined;
  private gcTimer: NodeJS.Timeout | undefined;
  private soonTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  private decommissioning: Promise<HandoffResult> | undefined;

  constructor(
    private readonly cluster: ElasticaCluster,
    peers: ClusterPeerCaller,
    @Inject(KV_STORE_OPTIONS) private readonly options: KvStoreOptions,
  ) {
    this.node = new KvNode(cluster, peers, () => Date.now(), options.node, (level, message) => this.logger[level](message));
  }

  get isDecommissioning(): boolean {
    return this.decommissioning !== undefined;
  }

  onApplicationBootstrap(): void {
    this.subscriptions.push(
      this.cluster.ringChanges$.subscribe((what) => {
        this.node.noteRingChange();
        this.logger.log(`ring changed (${what}); rebalancing soon`);
        this.soon();
      }),
      this.cluster.catchUp$.subscribe(() => this.soon()),
    );
    this.syncTimer = setInterval(() => this.round(), this.options.syncIntervalMs);
    this.syncTimer.unref();
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

  private soon(): void {
    if (this.soonTimer || this.closed) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      this.round();
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
          if (r.pulled + r.pushed + r.handedOff + r.dropped > 0) {
            this.logger.log(`rebalanced: pulled ${r.pulled}, pushed ${r.pushed}, handed over ${r.handedOff}, dropped ${r.dropped} copies${r.failedPeers.length ? `; could not reach ${r.failedPeers.join(', ')}` : ''}`);
          }
        } catch (error) {
          this.logger.warn(`placement round failed: ${(error as Error).message}`);
        }
      } while (this.again && !this.closed && !this.decommissioning);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /**
   * Decommission: hand every copy to the replicas it has without this node (retrying targets that
   * failed), announce the departure, then hand over once more what was written meanwhile.
   */
  decommission(): Promise<HandoffResult> {
    this.decommissioning ??= (async () => {
      clearInterval(this.syncTimer);
      await this.running;
      let result = await this.handOffWithRetries();
      const handedAt = this.node.storage.mutations;
      this.logger.log(`decommission: handed ${result.sent} copies of ${result.keys} keys over; announcing departure`);
      await this.cluster.leave();
      // Coordinators still sent this node writes until they heard of the departure: hand over again.
      const late = this.node.storage.mutations - handedAt;
      result = await this.handOffWithRetries();
      this.logger.log(`decommission: final pass handed ${result.sent} copies over (${late} writes arrived meanwhile); leaving`);
      return result;
    })();
    return this.decommissioning;
  }

  private async handOffWithRetries(): Promise<HandoffResult> {
    let result = await this.node.handOffAll();
    for (let attempt = 1; attempt < this.options.handoffAttempts && result.failedTargets.length > 0; attempt++) {
      this.logger.warn(`handing over to ${result.failedTargets.join(', ')} failed; retrying`);
      await new Promise((resolve) => setTimeout(resolve, 1000).unref());
      result = await this.node.handOffAll();
    }
    return result;
  }
}
