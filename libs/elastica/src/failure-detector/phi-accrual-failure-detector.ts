import type { PhiDistribution } from '../options/elastica-options.js';
import { HeartbeatWindow } from './heartbeat-window.js';
import { phiExponential, phiNormal } from './phi.js';

export interface PhiAccrualFailureDetectorOptions {
  threshold?: number;
  maxSampleSize?: number;
  minStdDeviationMs?: number;
  acceptableHeartbeatPauseMs?: number;
  firstHeartbeatEstimateMs?: number;
  distribution?: PhiDistribution;
  /** Intervals longer than this are not recorded (an outage is not a sample). Default 4 x firstHeartbeatEstimateMs. */
  maxIntervalMs?: number;
}

/** What the detector has learned of one peer; shown so an operator can see why a node was convicted. */
export interface PhiSnapshot {
  phi: number;
  meanMs: number;
  stdDeviationMs: number;
  samples: number;
  lastHeartbeatMs: number | undefined;
}

/**
 * The phi accrual failure detector (Hayashibara et al.) for one peer: a pure class, time is an input.
 * Shaped after Akka's, so a threshold means the same here as there.
 */
export class PhiAccrualFailureDetector {
  readonly threshold: number;
  readonly maxSampleSize: number;
  readonly minStdDeviationMs: number;
  readonly acceptableHeartbeatPauseMs: number;
  readonly firstHeartbeatEstimateMs: number;
  readonly distribution: PhiDistribution;
  readonly maxIntervalMs: number;

  private readonly window: HeartbeatWindow;
  private lastHeartbeatMs: number | undefined;

  constructor(options: PhiAccrualFailureDetectorOptions = {}) {
    this.threshold = options.threshold ?? 8;
    this.maxSampleSize = options.maxSampleSize ?? 1000;
    this.minStdDeviationMs = options.minStdDeviationMs ?? 100;
    this.acceptableHeartbeatPauseMs = options.acceptableHeartbeatPauseMs ?? 3000;
    this.firstHeartbeatEstimateMs = options.firstHeartbeatEstimateMs ?? 1000;
    this.distribution = options.distribution ?? 'normal';
    this.maxIntervalMs = options.maxIntervalMs ?? 4 * this.firstHeartbeatEstimateMs;
    const check = (name: string, value: number, min: number): void => {
      if (!Number.isFinite(value) || value < min)
        throw new RangeError(`PhiAccrualFailureDetector: ${name} must be a number >= ${min}, got ${value}`);
    };
    check('threshold', this.threshold, Number.MIN_VALUE);
    check('maxSampleSize', this.maxSampleSize, 1);
    check('minStdDeviationMs', this.minStdDeviationMs, Number.MIN_VALUE);
    check('acceptableHeartbeatPauseMs', this.acceptableHeartbeatPauseMs, 0);
    check('firstHeartbeatEstimateMs', this.firstHeartbeatEstimateMs, Number.MIN_VALUE);
    check('maxIntervalMs', this.maxIntervalMs, Number.MIN_VALUE);
    if (this.distribution !== 'normal' && this.distribution !== 'exponential') {
      throw new RangeError(
        `PhiAccrualFailureDetector: distribution must be 'normal' or 'exponential', got ${String(this.distribution)}`,
      );
    }
    this.window = new HeartbeatWindow(Math.floor(this.maxSampleSize));
  }

  /** Records a heartbeat arriving at `nowMs`. */
  heartbeat(nowMs: number): void {
    const last = this.lastHeartbeatMs;
    if (last === undefined) {
      this.seedWindow();
    } else {
      const interval = nowMs - last;
      // A heartbeat from the past (clock or ordering quirk) teaches nothing and must not move time back.
      if (interval < 0) return;
      if (interval <= this.maxIntervalMs) this.window.add(interval);
    }
    this.lastHeartbeatMs = nowMs;
  }

  /** Suspicion at `nowMs`: 0 before the first heartbeat, then growing with silence. */
  phi(nowMs: number): number {
    const last = this.lastHeartbeatMs;
    if (last === undefined) return 0;
    const dt = Math.max(0, nowMs - last);
    const mean = this.window.mean;
    if (this.distribution === 'exponential') return phiExponential(dt, mean);
    const stdDeviation = Math.max(this.window.stdDeviation, this.minStdDeviationMs);
    return phiNormal(dt, mean + this.acceptableHeartbeatPauseMs, stdDeviation);
  }

  isAvailable(nowMs: number): boolean {
    return this.phi(nowMs) < this.threshold;
  }

  /** Forgets everything: used when the peer restarts (a new generation) and its history no longer applies. */
  reset(): void {
    this.window.clear();
    this.lastHeartbeatMs = undefined;
  }

  get lastHeartbeat(): number | undefined {
    return this.lastHeartbeatMs;
  }

  snapshot(nowMs: number): PhiSnapshot {
    return {
      phi: this.phi(nowMs),
      meanMs: this.window.mean,
      stdDeviationMs: this.window.stdDeviation,
      samples: this.window.size,
      lastHeartbeatMs: this.lastHeartbeatMs,
    };
  }

  /** As Akka: two intervals of mean -/+ mean/4, so one heartbeat and then silence still convicts. */
  private seedWindow(): void {
    const mean = this.firstHeartbeatEstimateMs;
    const deviation = mean / 4;
    this.window.add(mean - deviation);
    this.window.add(mean + deviation);
  }
}
