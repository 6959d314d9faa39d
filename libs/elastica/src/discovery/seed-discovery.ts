import type { SeedResolver } from './seed-resolver.js';

export interface SeedDiscoveryTiming {
  /** First retry after a failed lookup, doubling up to `retryMaxMs`; also how often a joining node looks again. */
  retryMinMs: number;
  retryMaxMs: number;
}

/**
 * When the seeds are looked up (the shell's half of seed discovery; SeedResolver does the lookups):
 * at start; again at each seed retry of the gossip core; every `retryMinMs` while this node is still
 * joining (a record may be added for a node that starts later); every `retryMaxMs` once in a cluster.
 * A failed lookup is retried with a doubling backoff; it is never fatal, and the last good answer stays.
 */
export class SeedDiscovery {
  private inFlight = false;
  private lastAt = -Infinity;
  private retryAt = -Infinity;
  private backoffMs: number;
  private seenRetries = 0;
  private stopped = false;
  private answered = false;

  constructor(
    private readonly resolver: SeedResolver,
    private readonly timing: SeedDiscoveryTiming,
    private readonly onSeeds: (addresses: string[]) => void,
    private readonly now: () => number,
  ) {
    this.backoffMs = timing.retryMinMs;
  }

  /** Called every gossip round with the core's seed-retry count and whether this node is still joining. */
  round(seedRetries: number, joining: boolean): void {
    if (this.stopped || this.inFlight) return;
    const now = this.now();
    const retried = seedRetries !== this.seenRetries;
    this.seenRetries = seedRetries;
    if (now < this.retryAt) return;
    const due =
      !this.answered ||
      retried ||
      (joining && now - this.lastAt >= this.timing.retryMinMs) ||
      now - this.lastAt >= this.timing.retryMaxMs;
    if (due) void this.lookUp(now);
  }

  stop(): void {
    this.stopped = true;
  }

  private async lookUp(now: number): Promise<void> {
    this.inFlight = true;
    this.lastAt = now;
    try {
      const { addresses, failed } = await this.resolver.resolve();
      if (this.stopped) return;
      if (failed > 0) {
        this.retryAt = this.now() + this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * 2, this.timing.retryMaxMs);
      } else {
        this.retryAt = -Infinity;
        this.backoffMs = this.timing.retryMinMs;
      }
      // A lookup that failed whole keeps the last good answer: a DNS outage must not empty the seeds.
      if (failed === 0 || addresses.length > 0) {
        this.answered = true;
        this.onSeeds(addresses);
      }
    } finally {
      this.inFlight = false;
    }
  }
}
