import type { FailureDetectorOptions } from '../options/elastica-options.js';
import { PhiAccrualFailureDetector, type PhiSnapshot } from './phi-accrual-failure-detector.js';

/** A node crossed the threshold: `unavailable` when phi rose to it, `available` when it fell below. */
export interface AvailabilityChange {
  type: 'available' | 'unavailable';
  nodeId: string;
  phi: number;
}

interface Tracked {
  generation: number;
  detector: PhiAccrualFailureDetector;
  available: boolean;
}

/**
 * One phi detector per peer, keyed by node id and reset whenever the peer's generation changes, since
 * a restarted node's history says nothing about the new run. Pure: time is an argument.
 */
export class PeerFailureDetectors {
  private readonly peers = new Map<string, Tracked>();

  constructor(private readonly options: FailureDetectorOptions) {}

  get threshold(): number {
    return this.options.threshold;
  }

  /** A newer heartbeat of `nodeId` (run `generation`) was learned at `nowMs`. */
  heartbeat(nodeId: string, generation: number, nowMs: number): void {
    let tracked = this.peers.get(nodeId);
    if (tracked === undefined) {
      tracked = { generation, detector: new PhiAccrualFailureDetector(this.options), available: true };
      this.peers.set(nodeId, tracked);
    } else if (generation > tracked.generation) {
      tracked.detector.reset();
      tracked.generation = generation;
    } else if (generation < tracked.generation) {
      return; // a heartbeat of an older run: that run is over
    }
    tracked.detector.heartbeat(nowMs);
  }

  /** 0 for a node never heard from. */
  phi(nodeId: string, nowMs: number): number {
    return this.peers.get(nodeId)?.detector.phi(nowMs) ?? 0;
  }

  isAvailable(nodeId: string, nowMs: number): boolean {
    return this.phi(nodeId, nowMs) < this.options.threshold;
  }

  snapshot(nodeId: string, nowMs: number): PhiSnapshot | undefined {
    return this.peers.get(nodeId)?.detector.snapshot(nowMs);
  }

  has(nodeId: string): boolean {
    return this.peers.has(nodeId);
  }

  nodeIds(): IterableIterator<string> {
    return this.peers.keys();
  }

  remove(nodeId: string): void {
    this.peers.delete(nodeId);
  }

  /**
   * Re-evaluates every peer and returns those that crossed the threshold since the last sweep.
   * With `mayConvict` false (this node itself was paused) nobody is newly convicted, but recoveries pass.
   */
  sweep(nowMs: number, mayConvict = true): AvailabilityChange[] {
    const changes: AvailabilityChange[] = [];
    for (const [nodeId, tracked] of this.peers) {
      const phi = tracked.detector.phi(nowMs);
      const available = phi < this.options.threshold;
      if (available === tracked.available) continue;
      if (!available && !mayConvict) continue;
      tracked.available = available;
      changes.push({ type: available ? 'available' : 'unavailable', nodeId, phi });
    }
    return changes;
  }
}
