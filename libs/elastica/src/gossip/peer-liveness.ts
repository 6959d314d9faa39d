import { LocalPauseGuard } from '../failure-detector/local-pause-guard.js';
import { PeerFailureDetectors } from '../failure-detector/peer-failure-detectors.js';
import type { FailureDetectorOptions } from '../options/elastica-options.js';
import type { LivenessOracle } from './gossip.types.js';

/**
 * The liveness oracle of pure use (the simulator, tests, users without Nest): the same
 * PeerFailureDetectors and LocalPauseGuard that FailureDetectorService wraps, with time as an input.
 */
export class PeerLiveness implements LivenessOracle {
  readonly detectors: PeerFailureDetectors;
  readonly guard: LocalPauseGuard;

  constructor(options: FailureDetectorOptions) {
    this.detectors = new PeerFailureDetectors(options);
    this.guard = new LocalPauseGuard(options.localPauseMs);
  }

  heartbeat(nodeId: string, generation: number, nowMs: number): void {
    this.detectors.heartbeat(nodeId, generation, nowMs);
  }

  /** While this node recovers from its own stall it convicts nobody. */
  isAvailable(nodeId: string, nowMs: number): boolean {
    return !this.guard.mayConvict(nowMs) || this.detectors.isAvailable(nodeId, nowMs);
  }

  mayConvict(nowMs: number): boolean {
    return this.guard.mayConvict(nowMs);
  }

  suspicion(nodeId: string, nowMs: number): number {
    return this.detectors.phi(nodeId, nowMs) / this.detectors.threshold;
  }

  remove(nodeId: string): void {
    this.detectors.remove(nodeId);
  }
}
