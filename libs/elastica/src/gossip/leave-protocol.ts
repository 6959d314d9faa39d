import { shuffle, type Random } from '../common/random.js';
import type { GossipOptions } from '../options/elastica-options.js';
import type { EndpointState } from './endpoint-state.js';
import { epidemicRounds } from './epidemic.js';

export type LeavePhase = 'none' | 'leaving' | 'left' | 'done';

/** The peers whose confirmation is awaited. */
function isLivePeer(endpoint: EndpointState, self: EndpointState): boolean {
  return endpoint !== self && !endpoint.down && endpoint.announced !== 'left';
}

/** Extra peers a leaving node tells each round, so the news spreads fast in small clusters. */
export const LEAVE_FANOUT = 3;

/**
 * The phases of a graceful departure and when to move on: each announcement waits for peers to confirm
 * it, or for a timeout. See docs/ARCHITECTURE.md, Gossip › Lifecycle.
 */
export class LeaveProtocol {
  private current: LeavePhase = 'none';
  private startedAt = 0;
  private phaseStartTick = 0;
  /** The version of this node (its latest announcement) peers must confirm before the next phase. */
  private awaitedVersion = 0;
  /** For each peer, the version of this node's current incarnation its message headers say it has. */
  private readonly confirmedVersions = new Map<string, number>();

  constructor(private readonly options: GossipOptions) {}

  get phase(): LeavePhase {
    return this.current;
  }

  /** Whether this node is announcing its departure (`leaving` or `left`, not yet done). */
  get announcing(): boolean {
    return this.current === 'leaving' || this.current === 'left';
  }

  begin(nowMs: number, tick: number): void {
    this.current = 'leaving';
    this.startedAt = nowMs;
    this.phaseStartTick = tick;
  }

  awaitConfirmation(version: number): void {
    this.awaitedVersion = version;
  }

  confirmedBy(peerId: string, version: number): void {
    if (version > (this.confirmedVersions.get(peerId) ?? 0)) this.confirmedVersions.set(peerId, version);
  }

  forgetPeer(peerId: string): void {
    this.confirmedVersions.delete(peerId);
  }

  /** This node took a new incarnation: what peers confirmed of the old one says nothing of it. */
  forgetConfirmations(): void {
    this.confirmedVersions.clear();
  }

  /** The addresses `leave()` tells at once: LEAVE_FANOUT live peers at random. */
  firstToTell(endpoints: Iterable<EndpointState>, self: EndpointState, random: Random): string[] {
    const live = [...endpoints].filter((endpoint) => isLivePeer(endpoint, self));
    shuffle(random, live);
    return live.slice(0, LEAVE_FANOUT).map((endpoint) => endpoint.address);
  }

  /**
   * Once a round: true when `leaving` has spread (or half the timeout passed) and this node must now
   * announce `left`; once `left` has spread too (or the timeout passed), the phase becomes `done`.
   */
  advance(
    nowMs: number,
    tick: number,
    liveCount: number,
    endpoints: Iterable<EndpointState>,
    self: EndpointState,
  ): boolean {
    if (!this.announcing) return false;
    let confirmed = 0;
    let live = 0;
    for (const endpoint of endpoints) {
      if (!isLivePeer(endpoint, self)) continue;
      live++;
      if ((this.confirmedVersions.get(endpoint.id) ?? 0) >= this.awaitedVersion) confirmed++;
    }
    // In a big cluster not every peer will say so in time: a few confirmations plus the rounds an
    // epidemic needs is as good as it gets without a broadcast.
    const spreadRounds = epidemicRounds(live + 1) + 2;
    const spread =
      confirmed === live ||
      (confirmed >= Math.min(LEAVE_FANOUT, liveCount) && tick - this.phaseStartTick >= spreadRounds);
    const deadline =
      this.startedAt + (this.current === 'leaving' ? this.options.leaveTimeoutMs / 2 : this.options.leaveTimeoutMs);
    if (!spread && nowMs < deadline) return false;
    if (this.current === 'leaving') {
      this.current = 'left';
      this.phaseStartTick = tick;
      return true;
    }
    this.current = 'done';
    return false;
  }
}
