import { describe, expect, it } from '@jest/globals';
import { SeededRandom } from '../common/random.js';
import { DEFAULT_GOSSIP } from '../options/defaults.js';
import { GossipNode } from './gossip-node.js';
import type { LivenessOracle, ViewEntry } from './gossip.types.js';
import { decodeMessage } from './wire/codec.js';

// Peer choice as docs/ARCHITECTURE.md states it (Cassandra's): each round one random live peer; with
// probability unreachable / (live + 1) one node judged down; with probability seeds / (live + unreachable)
// a seed, unless the live pick was a seed already; with nobody live, the seeds every round five times, then on a doubling backoff.
// Seeded PRNG and virtual time: every figure below replays exactly.

const T0 = 1_700_000_000_000;
const INTERVAL = DEFAULT_GOSSIP.intervalMs;
const ROUNDS = 4000;

/**
 * A detector that convicts nobody on its own (and mutes the first-contact timeout): who is live and
 * who is down stays as loaded, so every round draws from the same sets.
 */
const frozenLiveness: LivenessOracle = {
  heartbeat: () => {},
  isAvailable: () => true,
  remove: () => {},
  mayConvict: () => false,
};

const peers = (prefix: string, count: number, down: boolean): ViewEntry[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}${i}`,
    address: `${prefix}${i}:7000`,
    generation: T0 - 60_000,
    heartbeat: 50,
    status: 'up',
    down,
  }));
const LIVE = peers('live', 10, false);
const DOWN = peers('down', 5, true);
const EXTERNAL_SEEDS = ['seed0:7000', 'seed1:7000', 'seed2:7000'];

function node(seeds: string[], view: ViewEntry[], seed = 7, notices: string[] = []): GossipNode {
  const n = new GossipNode({
    id: 'self',
    address: 'self:7000',
    generation: T0,
    seeds,
    options: DEFAULT_GOSSIP,
    random: new SeededRandom(seed),
    liveness: frozenLiveness,
    listener: { notice: (level, message) => void notices.push(`${level}: ${message}`) },
  });
  n.loadView(view, T0);
  return n;
}

/** Ticks `rounds` rounds, one interval apart; every message must be a SYN, at most one per address. */
function rounds(n: GossipNode, count: number): { at: number; to: string[] }[] {
  const out: { at: number; to: string[] }[] = [];
  const kinds = new Set<string>();
  let duplicates = 0;
  for (let i = 1; i <= count; i++) {
    const at = T0 + i * INTERVAL;
    const sent = n.tick(at);
    for (const o of sent) kinds.add(decodeMessage(o.bytes).type);
    const to = sent.map((o) => o.to);
    if (new Set(to).size !== to.length) duplicates++;
    out.push({ at, to });
  }
  expect(duplicates).toBe(0);
  if (kinds.size > 0) expect([...kinds]).toEqual(['syn']);
  return out;
}

/**
 * Asserts that `hits` in `trials` is within three standard deviations of probability `p` (binomial). The
 * run is deterministic, so this never flakes; three sigma still catches an odds formula off by one.
 */
function expectRate(hits: number, trials: number, p: number): void {
  const sigma = Math.sqrt((p * (1 - p)) / trials);
  expect(Math.abs(hits / trials - p)).toBeLessThan(3 * sigma);
}

const addresses = (entries: ViewEntry[]) => new Set(entries.map((e) => e.address));

const count = (picks: string[], address: string) => picks.filter((p) => p === address).length;

describe('GossipNode peer choice (10 live, 5 unreachable, 3 seeds)', () => {
  it('picks exactly one live peer a round, an unreachable one with probability 5/11, a seed with 3/15', () => {
    const n = node(EXTERNAL_SEEDS, [...LIVE, ...DOWN]);
    const live = addresses(LIVE);
    const down = addresses(DOWN);
    const seeds = new Set(EXTERNAL_SEEDS);
    const log = rounds(n, ROUNDS);
    const livePicks: string[] = [];
    const downPicks: string[] = [];
    const seedPicks: string[] = [];
    for (const { to } of log) {
      const l = to.filter((a) => live.has(a));
      const d = to.filter((a) => down.has(a));
      const s = to.filter((a) => seeds.has(a));
      expect(l).toHaveLength(1);
      expect(d.length).toBeLessThanOrEqual(1);
      expect(s.length).toBeLessThanOrEqual(1);
      expect(l.length + d.length + s.length).toBe(to.length); // nobody else, never itself
      livePicks.push(...l);
      downPicks.push(...d);
      seedPicks.push(...s);
    }
    expectRate(downPicks.length, ROUNDS, 5 / (10 + 1));
    expectRate(seedPicks.length, ROUNDS, 3 / (10 + 5));
    // Uniform within each group (expected 1/10, 1/5, 1/3 of that group's picks).
    for (const address of live) expectRate(count(livePicks, address), livePicks.length, 1 / 10);
    for (const address of down) expectRate(count(downPicks, address), downPicks.length, 1 / 5);
    for (const address of seeds) expectRate(count(seedPicks, address), seedPicks.length, 1 / 3);
  });

  it('adds no seed when the live pick was one already (seeds among the live: 3/10 + 7/10 x 3/15)', () => {
    const seeds = LIVE.slice(0, 3).map((e) => e.address);
    const n = node(seeds, [...LIVE, ...DOWN]);
    const live = addresses(LIVE);
    let withSeed = 0;
    let twoLive = 0;
    for (const { to } of rounds(n, ROUNDS)) {
      const l = to.filter((a) => live.has(a));
      const s = to.filter((a) => seeds.includes(a));
      expect(s.length).toBeLessThanOrEqual(1);
      expect(l.length).toBeGreaterThanOrEqual(1);
      expect(l.length).toBeLessThanOrEqual(2);
      if (l.length === 2) {
        twoLive++;
        expect(s).toHaveLength(1); // the second live target is the extra seed, never a second random peer
      }
      if (s.length === 1) withSeed++;
    }
    expectRate(withSeed, ROUNDS, 3 / 10 + (7 / 10) * (3 / 15));
    expectRate(twoLive, ROUNDS, (7 / 10) * (3 / 15));
  });

  it('with nobody live: an unreachable peer every round, and the seeds every round five times, then on a doubling backoff, logged from then', () => {
    const notices: string[] = [];
    const n = node(EXTERNAL_SEEDS, DOWN, 7, notices);
    const down = addresses(DOWN);
    const seedTimes: number[] = [];
    const seedsTried = new Set<string>();
    for (const { at, to } of rounds(n, 200)) {
      // unreachable / (0 + 1) >= 1: the down nodes are all this node has, so one is tried every round.
      expect(to.filter((a) => down.has(a))).toHaveLength(1);
      const s = to.filter((a) => EXTERNAL_SEEDS.includes(a));
      expect(s.length).toBeLessThanOrEqual(1);
      if (s.length === 1) {
        seedTimes.push(at);
        seedsTried.add(s[0]);
      }
      expect(to).toHaveLength(1 + s.length);
    }
    const gaps = seedTimes.slice(1).map((t, i) => t - seedTimes[i]);
    // seedRetryMinMs 1 s five times, then doubling up to seedRetryMaxMs 30 s.
    expect(seedTimes[0]).toBe(T0 + INTERVAL);
    expect(gaps.slice(0, 10)).toEqual([1000, 1000, 1000, 1000, 1000, 2000, 4000, 8000, 16_000, 30_000]);
    expect(seedsTried).toEqual(new Set(EXTERNAL_SEEDS)); // a random seed each time, not always the first
    const warnings = notices.filter((m) => m.startsWith('warn: no seed has answered'));
    expect(warnings).toHaveLength(seedTimes.length - 5);
    expect(warnings[0]).toContain('6 attempts');
  });

  it('never gossips to itself when it is one of the seeds: the other seeds share the odds, 2/15', () => {
    const n = node(['self:7000', ...EXTERNAL_SEEDS.slice(0, 2)], [...LIVE, ...DOWN]);
    let seedRounds = 0;
    for (const { to } of rounds(n, ROUNDS)) {
      expect(to).not.toContain('self:7000');
      if (to.some((a) => EXTERNAL_SEEDS.includes(a))) seedRounds++;
    }
    expectRate(seedRounds, ROUNDS, 2 / 15);
  });

  it('a node whose only seed is itself goes up at once and, knowing nobody, sends nothing', () => {
    const notices: string[] = [];
    const n = node(['self:7000'], [], 7, notices);
    expect(rounds(n, 50).flatMap((r) => r.to)).toEqual([]);
    expect(n.member('self')!.status).toBe('up');
    expect(notices).toEqual([]);
  });
});
