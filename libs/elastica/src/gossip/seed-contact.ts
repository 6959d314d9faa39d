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
 * Gossip › Peer choice. Seeds are addresses: names are resolved by the shell (seed discovery), which
 * hands each new answer over with `replace`; until the first, the seeds are `pending`.
 */
export class SeedContact {
  private seeds: string[] = [];
  /** The addresses last discovered, this node's own among them: what the bootstrap policy counts. */
  private found: string[] = [];
  /** This node's own addresses: its advertised one, and any a dial found to reach it. Never dialled. */
  private readonly own = new Set<string>();
  private backoffMs: number;
  private nextAttemptAt = -Infinity;
  private attempts = 0;
  private resolved: boolean;
  /** Rounds that retried a seed while nobody was live, ever: the shell looks the seeds up again at each. */
  retries = 0;

  /** `seeds` without `ownAddress`: a node never gossips to itself. `pending`: the seeds are still being looked up. */
  constructor(
    seeds: readonly string[],
    ownAddress: string,
    private readonly options: GossipOptions,
    private readonly random: Random,
    private readonly listener: GossipListener,
    pending = false,
  ) {
    this.own.add(ownAddress);
    this.resolved = !pending;
    this.replaceList(seeds);
    this.backoffMs = options.seedRetryMinMs;
  }

  /** Whether this node has no seed but itself, once its seeds are known: it is up on its own. */
  get none(): boolean {
    return this.resolved && this.seeds.length === 0;
  }

  /** The addresses last discovered, own ones included (for the bootstrap policy). */
  get discovered(): readonly string[] {
    return this.found;
  }

  isOwn(address: string): boolean {
    return this.own.has(address);
  }

  /** `address` turned out to be this node (a dial to it reached this node): never dialled again, even if discovered again. */
  forget(address: string): void {
    this.own.add(address);
    const at = this.seeds.indexOf(address);
    if (at !== -1) this.seeds.splice(at, 1);
  }

  /** A new answer of seed discovery. */
  replace(seeds: readonly string[]): void {
    this.resolved = true;
    this.replaceList(seeds);
  }

  private replaceList(seeds: readonly string[]): void {
    this.found = [...new Set(seeds)];
    this.seeds = this.found.filter((seed) => !this.own.has(seed));
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
    if (live === 0) {
      // Nobody is reachable: retry the seeds, soon at first, then with a growing backoff, and say so.
      if (nowMs < this.nextAttemptAt) return;
      this.retries++;
      this.attempts++;
      this.nextAttemptAt = nowMs + this.backoffMs;
      const seed = this.seeds.length > 0 ? this.seeds[randomInt(this.random, this.seeds.length)] : undefined;
      if (seed !== undefined) targets.add(seed);
      if (this.attempts > FLAT_SEED_ATTEMPTS && (seed !== undefined || !this.resolved)) {
        this.listener.notice?.(
          'warn',
          seed === undefined
            ? `no seed found yet (${this.attempts} attempts); looking again in ${Math.round(this.backoffMs)} ms`
            : `no seed has answered yet (${this.attempts} attempts, seeds ${this.seeds.join(', ')}); trying ${seed}, next attempt in ${Math.round(this.backoffMs)} ms`,
        );
      }
      if (this.attempts >= FLAT_SEED_ATTEMPTS)
        this.backoffMs = Math.min(this.backoffMs * 2, this.options.seedRetryMaxMs);
      return;
    }
    if (this.seeds.length === 0) return;
    let toSeed = false;
    for (const seed of this.seeds) if (targets.has(seed)) toSeed = true;
    if (toSeed && live >= this.seeds.length) return;
    if (this.random.next() < this.seeds.length / (live + unreachable))
      targets.add(this.seeds[randomInt(this.random, this.seeds.length)]);
  }
}
