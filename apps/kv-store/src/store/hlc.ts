/**
 * A hybrid logical clock timestamp: wall-clock milliseconds, a counter for events within one
 * millisecond (or while the wall clock lags a timestamp already seen), and the writer's node id as the
 * final tie-break, so two distinct writes never compare equal.
 */
export interface Timestamp {
  readonly wall: number;
  readonly logical: number;
  readonly node: string;
}

export function compareTimestamps(a: Timestamp, b: Timestamp): number {
  if (a.wall !== b.wall) return a.wall < b.wall ? -1 : 1;
  if (a.logical !== b.logical) return a.logical < b.logical ? -1 : 1;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

export function formatTimestamp(ts: Timestamp): string {
  return `${ts.wall}.${ts.logical}@${ts.node}`;
}

export class ClockDriftError extends Error {
  constructor(remote: Timestamp, physicalMs: number, maxDriftMs: number) {
    super(
      `timestamp ${formatTimestamp(remote)} is ${remote.wall - physicalMs} ms ahead of this node's clock (at most ${maxDriftMs} ms is accepted)`,
    );
    this.name = 'ClockDriftError';
  }
}

/**
 * Last-writer-wins needs timestamps that respect causality even when wall clocks differ a little: a
 * node that has seen a write stamped T stamps its own next write after T, whatever its own clock says.
 * Pure: physical time is passed in. A remote timestamp far in the future is refused rather than
 * learned, because once learned it would make every later write of this node lose to it.
 */
export class HybridLogicalClock {
  private wall = 0;
  private logical = 0;

  constructor(
    private readonly node: string,
    private readonly maxDriftMs: number,
  ) {}

  /** A fresh timestamp for a write this node coordinates: later than anything it stamped or observed. */
  tick(physicalMs: number): Timestamp {
    if (physicalMs > this.wall) {
      this.wall = physicalMs;
      this.logical = 0;
    } else {
      this.logical++;
    }
    return { wall: this.wall, logical: this.logical, node: this.node };
  }

  /**
   * The clock's last reading kept from before a restart: later ticks come after it even if the wall
   * clock went back meanwhile. Not checked for drift: this node stamped or accepted it itself.
   */
  restore(saved: Timestamp): void {
    if (saved.wall > this.wall || (saved.wall === this.wall && saved.logical > this.logical)) {
      this.wall = saved.wall;
      this.logical = saved.logical;
    }
  }

  /** The last timestamp stamped or observed (what a restart must not go back before). */
  get reading(): { wall: number; logical: number } {
    return { wall: this.wall, logical: this.logical };
  }

  /** Learns a timestamp seen in a replica write, so this node's next tick comes after it. */
  observe(remote: Timestamp, physicalMs: number): void {
    if (remote.wall > physicalMs + this.maxDriftMs) throw new ClockDriftError(remote, physicalMs, this.maxDriftMs);
    if (remote.wall > this.wall || (remote.wall === this.wall && remote.logical > this.logical)) {
      this.wall = remote.wall;
      this.logical = remote.logical;
    }
  }
}
