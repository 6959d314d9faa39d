// `npm run bench -- ring [--nodes N] [--keys K] [--joins J]`: Elastica's ring against the npm package
// `hashring` (md5, ketama) on the same node ids and the same keys, in the same run.
//
// - lookups_per_s: key -> owner node id, key hashing included, over K distinct keys (more than
//   hashring's default 5000-entry lookup cache holds, so its cache is exercised as shipped).
// - max_over_mean: the most loaded node's share of the key space over the mean share, computed exactly
//   from each ring's ranges (sampling keys would add noise larger than the effect measured).
// - moved_on_join_over_ideal: the exact fraction of the key space that changes owner when one node
//   joins, over the ideal 1/(N+1); the worst of J successive joins. moved_between_existing: the
//   fraction that moved between two nodes both present before the join (ideal 0).
// Elastica's N-node ring is grown one join at a time through allocateTokens (splitting the most
// loaded ranges), the same path a live node takes.
import { createHash } from 'node:crypto';
import HashRing from 'hashring';
import {
  allocateTokens,
  DEFAULT_PARTITIONER,
  diffRings,
  movedFraction,
  TOKEN_SPACE,
  tokenOf,
  TokenRing,
  type RingMember,
} from 'elastica';

function flag(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isInteger(value) || value <= 0)
    throw new Error(`--${name} expects a positive integer, got ${argv[i + 1]}`);
  return value;
}

const nodeId = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:7000`;

function maxOverMean(ring: TokenRing): number {
  const loads = ring.loads();
  let max = 0;
  for (const l of loads) max = Math.max(max, l);
  return max / (TOKEN_SPACE / loads.length);
}

/** hashring's continuum as a TokenRing: same points, same (previous, point] ownership. */
function continuumOf(ring: HashRing): TokenRing {
  const points = new Map<string, number[]>();
  for (const { value, server } of ring.ring) {
    if (!points.has(server)) points.set(server, []);
    points.get(server)!.push(value);
  }
  return TokenRing.build([...points].map(([id, tokens]) => ({ id, status: 'up', tokens: [...new Set(tokens)] })));
}

/** Where hashring puts a key: the first four bytes of its md5, little-endian (ketama). */
function hashringPoint(key: string): number {
  return createHash('md5').update(key).digest().readUInt32LE(0);
}

/** Joins of `ids` one at a time: worst moved/ideal and the total moved between nodes already there. */
function joinFigures(steps: { before: TokenRing; after: TokenRing; id: string }[]) {
  let worst = 0;
  let sum = 0;
  let between = 0;
  for (const { before, after, id } of steps) {
    const moved = diffRings(before, after);
    const ratio = movedFraction(moved) * after.nodeIds.length;
    worst = Math.max(worst, ratio);
    sum += ratio;
    between += movedFraction(moved.filter((m) => m.to !== id));
  }
  return { worst, mean: sum / steps.length, between };
}

function lookupsPerSecond(lookup: (key: string) => string | undefined, keys: string[], rounds: number): number {
  const rates: number[] = [];
  let sink = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    let n = 0;
    do {
      for (const key of keys) sink += lookup(key)!.length;
      n += keys.length;
    } while (performance.now() - t0 < 400);
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  if (sink === 0) throw new Error('lookups returned nothing');
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1];
}

export function run(argv: string[]): void {
  const nodes = flag(argv, 'nodes', 1000);
  const keyCount = flag(argv, 'keys', 200_000);
  const joins = flag(argv, 'joins', 10);
  const vnodes = DEFAULT_PARTITIONER.vnodes;
  const keys = Array.from({ length: keyCount }, (_, i) => `user:${i}`);

  // Elastica: grow the ring one node at a time through the real allocation path.
  const t0 = performance.now();
  const members: RingMember[] = [];
  let ring = TokenRing.EMPTY;
  const joinSteps: { before: TokenRing; after: TokenRing; id: string }[] = [];
  let buildMs = 0;
  for (let i = 0; i < nodes + joins; i++) {
    const id = nodeId(i);
    members.push({ id, status: 'up', tokens: allocateTokens(ring, id, vnodes) });
    const next = TokenRing.build(members);
    if (i >= nodes) joinSteps.push({ before: ring, after: next, id });
    ring = next;
    if (i + 1 === nodes) buildMs = performance.now() - t0;
    if (i + 1 === nodes)
      console.log(
        `elastica: ${nodes} nodes joined one at a time (${vnodes} tokens each) in ${Math.round(performance.now() - t0)} ms`,
      );
  }
  const elasticaRing = joinSteps[0]?.before ?? ring;
  const elasticaJoin = joinFigures(joinSteps);
  // Leaving, the mirror image: each of a few nodes leaves the N-node ring in turn.
  let leaveWorst = 0;
  let leaveBetween = 0;
  for (let k = 0; k < joins; k++) {
    const leaver = elasticaRing.nodeIds[(k * 97) % elasticaRing.nodeIds.length];
    const after = TokenRing.build(members.slice(0, nodes).filter((m) => m.id !== leaver));
    const moved = diffRings(elasticaRing, after);
    leaveWorst = Math.max(leaveWorst, movedFraction(moved) * elasticaRing.nodeIds.length);
    leaveBetween += movedFraction(moved.filter((m) => m.from !== leaver));
  }

  // hashring: same node ids, same keys.
  const ids = Array.from({ length: nodes + joins }, (_, i) => nodeId(i));
  const hashrings = Array.from({ length: joins + 1 }, (_, k) => new HashRing(ids.slice(0, nodes + k)));
  const continua = hashrings.map(continuumOf);
  const hashringJoin = joinFigures(
    continua.slice(1).map((after, k) => ({ before: continua[k], after, id: ids[nodes + k] })),
  );
  console.log(`hashring: ${nodes} nodes, ${continua[0].size} points`);

  // Sanity: both libraries agree with their own exact ring model on a sample of keys.
  for (const key of keys.slice(0, 1000)) {
    if (hashrings[0].get(key) !== continua[0].nodeForToken(hashringPoint(key)))
      throw new Error(`hashring model disagrees on ${key}`);
  }

  // Sampled moved keys on the first join, for both (noisier than the exact figure, same keys).
  const sampledMoved = (before: (k: string) => string | undefined, after: (k: string) => string | undefined) =>
    (keys.reduce((n, k) => n + (before(k) !== after(k) ? 1 : 0), 0) / keys.length) * (nodes + 1);

  const rounds = 5;
  console.log(`lookups over ${keyCount} keys, median of ${rounds} rounds each ...`);
  const hashringRate = lookupsPerSecond((k) => hashrings[0].get(k), keys, rounds);
  const elasticaRate = lookupsPerSecond((k) => elasticaRing.nodeFor(k), keys, rounds);
  console.log(
    `elastica ${Math.round(elasticaRate).toLocaleString('en')} lookups/s, hashring ${Math.round(hashringRate).toLocaleString('en')} lookups/s`,
  );
  const replicasT0 = performance.now();
  let replicaCount = 0;
  for (const key of keys) replicaCount += elasticaRing.replicasForToken(tokenOf(key), 3).length;
  const replicasPerSecond = keys.length / ((performance.now() - replicasT0) / 1000);
  if (replicaCount !== keys.length * 3) throw new Error('replica count off');

  const round = (x: number, d = 4) => Number(x.toFixed(d));
  const result = {
    bench: 'ring',
    nodes,
    keys: keyCount,
    joins_measured: joins,
    elastica: {
      vnodes,
      lookups_per_s: Math.round(elasticaRate),
      max_over_mean: round(maxOverMean(elasticaRing)),
      moved_on_join_over_ideal: round(elasticaJoin.worst),
      moved_on_join_over_ideal_mean: round(elasticaJoin.mean),
      moved_between_existing: round(elasticaJoin.between, 9),
      moved_on_leave_over_ideal: round(leaveWorst),
      moved_between_remaining_on_leave: round(leaveBetween, 9),
      moved_on_join_over_ideal_sampled: round(
        sampledMoved(
          (k) => joinSteps[0].before.nodeFor(k),
          (k) => joinSteps[0].after.nodeFor(k),
        ),
      ),
      replicas3_per_s: Math.round(replicasPerSecond),
      grow_to_n_ms: Math.round(buildMs),
    },
    hashring: {
      points: continua[0].size,
      lookups_per_s: Math.round(hashringRate),
      max_over_mean: round(maxOverMean(continua[0])),
      moved_on_join_over_ideal: round(hashringJoin.worst),
      moved_on_join_over_ideal_mean: round(hashringJoin.mean),
      moved_between_existing: round(hashringJoin.between, 9),
      moved_on_join_over_ideal_sampled: round(
        sampledMoved(
          (k) => hashrings[0].get(k),
          (k) => hashrings[1].get(k),
        ),
      ),
    },
    ratio_lookups: round(elasticaRate / hashringRate, 2),
    ratio_max_over_mean: round(maxOverMean(elasticaRing) / maxOverMean(continua[0]), 3),
  };
  console.log(JSON.stringify(result));
}
