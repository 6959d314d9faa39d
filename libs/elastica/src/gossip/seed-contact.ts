import { randomInt, type Random } from '../common/random.js';
import type { GossipOptions } from '../options/elastica-options.js';
import type { GossipListener } from './gossip.types.js';

/**
 * Seed attempts at `seedRetryMinMs` before the backoff starts doubling (and is logged): nodes started
 * together come up in any order, and the seed's process may listen a few seconds after the others';
 * doubling from the first miss made a joiner wait up to 4 s more for a seed that was already up.
 */
const FLAT_SEED_ATTEMPTS = 5;

/**
 * When a round also goes to a seed, and the retries while nobody answers: see docs/ARCHITECTURE.md,
 * Gossip › Peer choice.
 */
export class SeedContact {
  private readonly seeds: string[];
  private backoffMs: number;
  private nextAttemptAt = -Infinity;
  private attempts = 0;

  /** `seeds` without `ownAddress`: a node never gossips to itself. */
  constructor(
    seeds: readonly string[],
    ownAddress: string,
    private readonly options: GossipOptions,
    private readonly random: Random,
    private readonly listener: GossipListener,
  ) {
    this.seeds = [...new Set(seeds)].filter((seed) => seed !== ownAddress);
    this.backoffMs = options.seedRetryMinMs;
  }

  /** Whether this node has no seed but itself: it is up on its own. */
  get none(): boolean {
    return this.seeds.length === 0;
  }

  forget(address: string): void {
    const at = this.seeds.indexOf(address);
    if (at !== -1) this.seeds.splice(at, 1);
  }

  /** Someone answered: should everyone fall silent again, retries start over from the shortest backoff. */
  answered(): void {
    if (this.attempts > 0 || this.backoffMs !== this.options.seedRetryMinMs) {
      this.attempts = 0;
      this.backoffMs = this.options.seedRetryMinMs;
      this.nextAttemptAt = -Infinity;
    }
  }

  /** Adds a seed to this round's `targets` when the rule says so, given the `live` and `unreachable` peers. */
  addTo(targets: Set<string>, live: number, unreachable: number, nowMs: number): void {
    if (this.seeds.length === 0) return;
    if (live === 0) {
      // Nobody is reachable: retry the seeds, soon at first, then with a growing backoff, and say so.
      if (nowMs < this.nextAttemptAt) return;
      const seed = this.seeds[randomInt(this.random, this.seeds.length)];
      targets.add(seed);
      this.attempts++;
      this.nextAttemptAt = nowMs + this.backoffMs;
      if (this.attempts > FLAT_SEED_ATTEMPTS) {
        this.listener.notice?.(
          'warn',
          `no seed has answered yet (${this.attempts} attempts, seeds ${this.seeds.join(', ')}); trying ${seed}, next attempt in ${Math.round(this.backoffMs)} ms`,
        );
      }
      if (this.attempts >= FLAT_SEED_ATTEMPTS)
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.seedRetryMaxMs);
      return;
    }
    let toSeed = false;
    for (const seed of this.seeds) if (targets.has(seed)) toSeed = true;
    if (toSeed && live >= this.seeds.length) return;
    if (this.random.next() < this.seeds.length / (live + unreachable))
      targets.add(this.seeds[randomInt(this.random, this.seeds.length)]);
  }
}
