import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { ClusterClient } from '../client/cluster-client.js';
import { ELASTICA_OPTIONS } from '../elastica.constants.js';
import { GossipService } from '../gossip/gossip.service.js';
import type { ResolvedElasticaOptions } from '../options/elastica-options.js';
import { PartitionerService } from '../ring/partitioner.service.js';
import { TransportService } from '../transport/transport.service.js';
import { TerminationSignal } from './termination-signal.js';

/** What the last decommission did, for logs, health checks and the benchmarks. */
export interface ShutdownReport {
  /** Why it ran: SIGTERM, or a call of decommission(). */
  cause: 'signal' | 'call';
  /** From the start of the drain until no call from a peer was left running (or the drain timed out). */
  drainMs: number;
  /** Calls from peers still running when the drain timed out (0: all finished). */
  abandonedCalls: number;
  /** From the start of the drain until the departure was confirmed by peers (or timed out). */
  totalMs: number;
}

const DRAIN_POLL_MS = 10;

/**
 * Graceful shutdown (`shutdown` options): on SIGTERM, with Nest's shutdown hooks enabled, the node
 * decommissions before Elastica closes. New cluster calls are refused (NodeDrainingError at the
 * caller), calls in flight get up to `drainTimeoutMs` to finish, the application's `beforeLeave`
 * work runs (bounded by the same timeout), then the node leaves (peers see `left`, not `down`) and
 * closes. A plain `app.close()` stops without leaving, as before. See docs/ARCHITECTURE.md,
 * "Graceful shutdown".
 */
@Injectable()
export class ShutdownService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('Elastica:Shutdown');
  private readonly signal = new TerminationSignal();
  private readonly beforeLeaveHooks: (() => Promise<unknown>)[] = [];
  private running: Promise<ShutdownReport> | undefined;
  /** The last decommission's figures, once it is done. */
  report: ShutdownReport | undefined;

  // The partitioner and the client are injected only so this service is torn down before them (Nest
  // destroys dependents first, one level at a time): the node leaves while everything still runs.
  constructor(
    @Inject(ELASTICA_OPTIONS) private readonly options: ResolvedElasticaOptions,
    private readonly transport: TransportService,
    private readonly gossip: GossipService,
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- injected for the teardown order only
    @Inject(PartitionerService) _partitioner: PartitionerService,
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- injected for the teardown order only
    @Inject(ClusterClient) _client: ClusterClient,
  ) {}

  /** Whether new cluster calls are refused (a decommission has begun). */
  get isDraining(): boolean {
    return this.transport.isDraining;
  }

  /**
   * Work the application does after the drain and before the node leaves (a store hands its data
   * over), bounded by `shutdown.drainTimeoutMs`. It may call `GossipService.leave()` itself.
   */
  beforeLeave(hook: () => Promise<unknown>): void {
    this.beforeLeaveHooks.push(hook);
  }

  /** Drains, runs the beforeLeave work, leaves. Idempotent; what SIGTERM runs with `shutdown.leave`. */
  decommission(): Promise<ShutdownReport> {
    this.running ??= this.run('call');
    return this.running;
  }

  onApplicationBootstrap(): void {
    if (this.options.shutdown.leave) this.signal.listen();
  }

  async onModuleDestroy(): Promise<void> {
    this.signal.stopListening();
    if (this.signal.received && this.options.shutdown.leave) {
      this.running ??= this.run('signal');
    }
    await this.running?.catch((error: unknown) =>
      this.logger.error(`decommission failed: ${(error as Error).message}`),
    );
  }

  private async run(cause: ShutdownReport['cause']): Promise<ShutdownReport> {
    const { drainTimeoutMs } = this.options.shutdown;
    const start = Date.now();
    this.transport.drain();
    this.logger.log(
      `decommissioning (${cause === 'signal' ? 'SIGTERM' : 'asked'}): new cluster calls refused, ${this.transport.inboundInFlight} in flight get up to ${drainTimeoutMs} ms`,
    );
    const deadline = start + drainTimeoutMs;
    while (this.transport.inboundInFlight > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS));
    const drainMs = Date.now() - start;
    const abandonedCalls = this.transport.inboundInFlight;
    if (abandonedCalls > 0)
      this.logger.warn(
        `drain timed out after ${drainMs} ms with ${abandonedCalls} calls still running; leaving anyway`,
      );
    for (const hook of this.beforeLeaveHooks) await this.bounded(hook, drainTimeoutMs);
    await this.gossip.leave();
    const report: ShutdownReport = { cause, drainMs, abandonedCalls, totalMs: Date.now() - start };
    this.report = report;
    this.logger.log(`left the cluster: drained in ${drainMs} ms, ${report.totalMs} ms in all`);
    return report;
  }

  private async bounded(hook: () => Promise<unknown>, ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ms);
    });
    try {
      const outcome = await Promise.race([hook(), timeout]);
      if (outcome === 'timeout') this.logger.warn(`work before leaving took longer than ${ms} ms; leaving anyway`);
    } catch (error) {
      this.logger.error(`work before leaving failed: ${(error as Error).message}; leaving anyway`);
    } finally {
      clearTimeout(timer);
    }
  }
}
