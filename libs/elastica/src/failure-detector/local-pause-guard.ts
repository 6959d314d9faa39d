/**
 * Cassandra's local-pause rule: when this node itself stalled (GC, a blocked event loop, SIGSTOP), the
 * silence it saw from peers was its own, so for as long as the stall lasted (at least `boundMs`) it
 * convicts nobody. Pure: the stall length and the time are inputs.
 */
export class LocalPauseGuard {
  private quietUntilMs = -Infinity;
  private lastStallMs = 0;

  constructor(private readonly boundMs: number) {}

  /** Reports that the local event loop was blocked for `stallMs`, noticed at `nowMs`. Returns true when it counts as a pause. */
  observe(stallMs: number, nowMs: number): boolean {
    if (!(stallMs > this.boundMs)) return false;
    this.lastStallMs = stallMs;
    this.quietUntilMs = Math.max(this.quietUntilMs, nowMs + Math.max(stallMs, this.boundMs));
    return true;
  }

  mayConvict(nowMs: number): boolean {
    return nowMs >= this.quietUntilMs;
  }

  get quietUntil(): number {
    return this.quietUntilMs;
  }

  get lastStall(): number {
    return this.lastStallMs;
  }
}
