import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Subject, type Observable } from 'rxjs';
import type { Clock } from '../common/clock.js';
import { CLOCK, ELASTICA_OPTIONS } from '../elastica.constants.js';
import type { ResolvedElasticaOptions } from '../options/elastica-options.js';
import { LocalPauseGuard } from './local-pause-guard.js';
import { PeerFailureDetectors, type AvailabilityChange } from './peer-failure-detectors.js';
import type { PhiSnapshot } from './phi-accrual-failure-detector.js';

/**
 * The phi accrual detector for every peer, fed by the heartbeats gossip learns, swept on a timer so
 * threshold crossings become events, and muted after a local stall (see LocalPauseGuard).
 */
@Injectable()
export class FailureDetectorService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Elastica:FailureDetector');
  private readonly detectors: PeerFailureDetectors;
  private readonly guard: LocalPauseGuard;
  private readonly changes = new Subject<AvailabilityChange>();
  private readonly sweepEveryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private loopDelay: IntervalHistogram | undefined;
  private lastSweepMs = 0;
  private pauses = 0;
  /** The stall now under way was already reported by `noticeOverdueSweep`, before the sweep ran. */
  private overdueNoticed = false;
  private readonly localPauseMs: number;

  /** Threshold crossings, either way, as the periodic sweep sees them. */
  readonly events$: Observable<AvailabilityChange> = this.changes.asObservable();

  constructor(
    @Inject(ELASTICA_OPTIONS) options: ResolvedElasticaOptions,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.detectors = new PeerFailureDetectors(options.failureDetector);
    this.guard = new LocalPauseGuard(options.failureDetector.localPauseMs);
    this.localPauseMs = options.failureDetector.localPauseMs;
    this.sweepEveryMs = Math.max(20, Math.min(500, options.gossip.intervalMs / 2));
  }

  get threshold(): number {
    return this.detectors.threshold;
  }

  /** Local stalls longer than the bound seen so far. */
  get localPauses(): number {
    return this.pauses;
  }

  phi(nodeId: string): number {
    return this.detectors.phi(nodeId, this.clock.now());
  }

  /** False once phi reaches the threshold; always true while this node recovers from its own stall. */
  isAvailable(nodeId: string): boolean {
    const now = this.clock.now();
    this.noticeOverdueSweep(now);
    return !this.guard.mayConvict(now) || this.detectors.isAvailable(nodeId, now);
  }

  /** Whether this node is in the quiet period after a local stall. */
  isMuted(): boolean {
    const now = this.clock.now();
    this.noticeOverdueSweep(now);
    return !this.guard.mayConvict(now);
  }

  /**
   * On waking from a stall, whichever timer fires first may ask who is alive before the sweep has
   * measured the stall (gossip's tick, say): an overdue sweep is that stall, so it counts at once.
   */
  private noticeOverdueSweep(now: number): void {
    if (!this.timer || this.overdueNoticed) return;
    const late = performance.now() - this.lastSweepMs - this.sweepEveryMs;
    if (!this.guard.observe(late, now)) return;
    this.overdueNoticed = true;
    this.pauses++;
    this.logger.warn(
      `this node's event loop stalled for at least ${Math.round(late)} ms; convicting nobody until ${new Date(this.guard.quietUntil).toISOString()}`,
    );
  }

  snapshot(nodeId: string): PhiSnapshot | undefined {
    return this.detectors.snapshot(nodeId, this.clock.now());
  }

  /** Called by gossip whenever a newer heartbeat of `nodeId` is learned, first- or third-hand. */
  heartbeat(nodeId: string, generation: number): void {
    this.detectors.heartbeat(nodeId, generation, this.clock.now());
  }

  /** Forgets a node (it left, or expired). */
  remove(nodeId: string): void {
    this.detectors.remove(nodeId);
  }

  onModuleInit(): void {
    this.loopDelay = monitorEventLoopDelay({ resolution: 20 });
    this.loopDelay.enable();
    this.lastSweepMs = performance.now();
    this.timer = setInterval(() => this.sweep(), this.sweepEveryMs);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.loopDelay?.disable();
    this.changes.complete();
  }

  /** Exposed for tests and for callers that want an evaluation now rather than at the next tick. */
  sweep(): AvailabilityChange[] {
    const now = this.clock.now();
    // Two views of one stall: the loop-delay histogram, and how late this very tick is.
    const tick = performance.now();
    const late = tick - this.lastSweepMs - this.sweepEveryMs;
    this.lastSweepMs = tick;
    const histogramMax = this.loopDelay ? this.loopDelay.max / 1e6 : 0;
    this.loopDelay?.reset();
    const stallMs = Math.max(late, Number.isFinite(histogramMax) ? histogramMax : 0);
    const noticed = this.overdueNoticed;
    this.overdueNoticed = false;
    if (this.guard.observe(stallMs, now) && !noticed) {
      this.pauses++;
      this.logger.warn(
        `this node's event loop stalled for ${Math.round(stallMs)} ms; convicting nobody until ${new Date(this.guard.quietUntil).toISOString()}`,
      );
    }
    const changes = this.detectors.sweep(now, this.guard.mayConvict(now));
    for (const change of changes) {
      if (change.type === 'unavailable')
        this.logger.warn(`node ${change.nodeId} is unavailable (phi ${change.phi.toFixed(2)} >= ${this.threshold})`);
      else this.logger.log(`node ${change.nodeId} is available again (phi ${change.phi.toFixed(2)})`);
      this.changes.next(change);
    }
    return changes;
  }
}
