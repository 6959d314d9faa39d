// `npm run sim -- --nodes N [--seed S] [--loss P] [--latency-ms L] [--jitter-ms J] [--crash K] [--duration-s D]
//   [--interval-ms I] [--scenario default|partition|stabilize] [--partition-s P] [--trials T] [--settle-s S]
//   [--gap-stats] [--scenario join-wave --wave W [--initial I] [--spread-ms S] [--vnodes V]]`
// Runs N real gossip cores on a virtual clock and prints progress, then one JSON line. Deterministic for a seed.
import { parseArgs } from 'node:util';
import { percentile, round } from './metrics.js';
import {
  measureConvergence,
  measureDetection,
  measurePartition,
  measureStabilization,
  warmUp,
  watchFalseConvictions,
} from './scenarios.js';
import { watchHeartbeatGaps } from './heartbeat-gaps.js';
import { Simulation } from './simulation.js';
import { runJoinWaves } from './join-waves.js';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '100' },
    seed: { type: 'string', default: '1' },
    loss: { type: 'string', default: '0' },
    'latency-ms': { type: 'string', default: '2' },
    'jitter-ms': { type: 'string', default: '0' },
    crash: { type: 'string', default: '0' },
    'duration-s': { type: 'string', default: '60' },
    'interval-ms': { type: 'string', default: '1000' },
    scenario: { type: 'string', default: 'default' },
    'partition-s': { type: 'string', default: '60' },
    trials: { type: 'string', default: '100' },
    // Crashes are measured after this much steady state, so detectors judge by phi, not the probation timeout.
    'settle-s': { type: 'string', default: '60' },
    'expiry-s': { type: 'string', default: '30' },
    // Each node keeps a detector per peer; 1000-sample windows are 8 KB each, 8 GB at N = 1000.
    'fd-samples': { type: 'string' },
    'fd-pause-ms': { type: 'string', default: '3000' },
    // The gaps between relayed heartbeats, over every pair, from the end of the warm-up (costs a map entry per pair).
    'gap-stats': { type: 'boolean', default: false },
    // join-wave: `initial` nodes start together, then waves of `wave` until --nodes; each wave's nodes
    // start within spread-ms. --wave equal to --nodes is everyone starting together.
    wave: { type: 'string', default: '50' },
    initial: { type: 'string', default: '0' },
    'spread-ms': { type: 'string', default: '1000' },
    vnodes: { type: 'string', default: '16' },
    'wave-max-s': { type: 'string', default: '300' },
    'choice-delay-ms': { type: 'string' },
    'settle-ms': { type: 'string' },
  },
  strict: true,
});

function number(name: string, min: number, max = Infinity): number {
  const raw = values[name as keyof typeof values] as string;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    console.error(
      `--${name}: expected a number from ${min}${max === Infinity ? '' : ` to ${max}`}, got ${JSON.stringify(raw)}`,
    );
    process.exit(2);
  }
  return value;
}

const nodes = Math.floor(number('nodes', 2, 100_000));
const seed = Math.floor(number('seed', 0));
const loss = number('loss', 0, 0.99);
const latencyMs = number('latency-ms', 0);
const jitterMs = number('jitter-ms', 0);
const crash = Math.floor(number('crash', 0, nodes - 1));
const durationS = number('duration-s', 1);
const intervalMs = number('interval-ms', 1);
const trials = Math.floor(number('trials', 0));
const settleS = number('settle-s', 0);
const partitionS = number('partition-s', 0);
const expiryS = number('expiry-s', 1);
const scenario = values.scenario;
const fdPauseMs = number('fd-pause-ms', 0);
const fdSamples = values['fd-samples'] === undefined ? (nodes > 200 ? 100 : 1000) : Math.floor(number('fd-samples', 2));
if (!['default', 'partition', 'stabilize', 'join-wave'].includes(scenario)) {
  console.error(`--scenario: expected default, partition, stabilize or join-wave, got ${JSON.stringify(scenario)}`);
  process.exit(2);
}

const wallStart = performance.now();
const progress = (line: string): void =>
  console.log(`[${((performance.now() - wallStart) / 1000).toFixed(1)}s] ${line}`);

const sim = new Simulation({
  nodes,
  seed,
  loss,
  latencyMs,
  jitterMs,
  failureDetector: { maxSampleSize: fdSamples, acceptableHeartbeatPauseMs: fdPauseMs },
  gossip:
    scenario === 'stabilize'
      ? { intervalMs, downExpiryMs: expiryS * 1000, tombstoneTtlMs: expiryS * 1000 }
      : { intervalMs },
});
if (scenario === 'join-wave') {
  const options = {
    initial: Math.floor(number('initial', 0, nodes)),
    wave: Math.floor(number('wave', 1, nodes)),
    spreadMs: number('spread-ms', 0),
    vnodes: Math.floor(number('vnodes', 1, 4096)),
    maxWaveMs: number('wave-max-s', 1) * 1000,
    choiceDelayMs: values['choice-delay-ms'] === undefined ? undefined : number('choice-delay-ms', 0),
    settleMs: values['settle-ms'] === undefined ? undefined : number('settle-ms', 0),
  };
  progress(
    `join waves: ${options.initial > 0 ? `${options.initial} together, then ` : ''}waves of ${options.wave} up to ${nodes} nodes, each within ${options.spreadMs} ms (seed ${seed}, loss ${loss}, latency ${latencyMs} ms + jitter ${jitterMs} ms, interval ${intervalMs} ms)`,
  );
  const waves = runJoinWaves(sim, options, progress);
  const worst = (pick: (w: (typeof waves)[number]) => number | null, most = true) =>
    waves.reduce<number | null>(
      (acc, w) => {
        const v = pick(w);
        if (v === null || acc === null) return null;
        return most ? Math.max(acc, v) : Math.min(acc, v);
      },
      most ? -Infinity : Infinity,
    );
  progress(`done in ${((performance.now() - wallStart) / 1000).toFixed(1)} s of wall time`);
  console.log(
    JSON.stringify({
      nodes,
      seed,
      scenario,
      loss,
      latency_ms: latencyMs,
      jitter_ms: jitterMs,
      interval_ms: intervalMs,
      initial: options.initial,
      wave: options.wave,
      spread_ms: options.spreadMs,
      vnodes: options.vnodes,
      // Worst over the waves; a null means some wave did not get there within --wave-max-s.
      rounds_to_all_up: worst((w) => w.rounds_to_all_up),
      rounds_to_agreed_ring: worst((w) => w.rounds_to_agreed_ring),
      rounds_to_settled: worst((w) => w.rounds_to_settled),
      max_over_mean: worst((w) => w.max_over_mean),
      min_over_mean: worst((w) => w.min_over_mean, false),
      // The first wave of a cluster moves nothing, so it has no figure here.
      moved_over_ideal: waves.some((w) => w.moved_over_ideal !== null)
        ? Math.max(...waves.map((w) => w.moved_over_ideal ?? 0))
        : null,
      waves,
      // The gossip measurements of the other scenarios are not taken here.
      rounds_to_converge: null,
      detect_s: null,
      false_convictions: null,
      bytes_per_node_per_s: null,
      msgs_per_node_per_s: null,
    }),
  );
  process.exit(0);
}
const falseConvictions = watchFalseConvictions(sim);
progress(
  `simulating ${nodes} nodes (seed ${seed}, loss ${loss}, latency ${latencyMs} ms + jitter ${jitterMs} ms, interval ${intervalMs} ms, scenario ${scenario})`,
);

const warmupMs = warmUp(sim);
const warmupFalseConvictions = falseConvictions.count;
progress(
  warmupMs === null
    ? 'warm-up: the cluster did not converge'
    : `warm-up: every node sees every node up after ${(warmupMs / 1000).toFixed(1)} s (virtual)`,
);
sim.runFor(5 * intervalMs);
sim.resetCounters();
const gapStats = values['gap-stats'] ? watchHeartbeatGaps(sim) : null;
const measureFrom = sim.now;
const result: Record<string, unknown> = {
  nodes,
  seed,
  scenario,
  loss,
  latency_ms: latencyMs,
  jitter_ms: jitterMs,
  interval_ms: intervalMs,
  fd_samples: fdSamples,
  fd_pause_ms: fdPauseMs,
};
result.warmup_s = warmupMs === null ? null : warmupMs / 1000;

let convergence = { trials: 0, completed: 0, rounds: [] as number[] };
if (scenario === 'default' && trials > 0) {
  convergence = measureConvergence(sim, trials, progress);
  progress(
    `convergence: ${convergence.completed}/${convergence.trials} changes reached every live node; p50 ${round(percentile(convergence.rounds, 50), 1)}, p99 ${round(percentile(convergence.rounds, 99), 1)} rounds`,
  );
}
if (scenario === 'partition') {
  falseConvictions.partitioned = true;
  const partition = measurePartition(sim, partitionS * 1000, 120_000);
  falseConvictions.partitioned = false;
  progress(
    `partition: ${partitionS} s apart (sides convicted each other: ${partition.sides_convicted}); identical views ${partition.heal_s === null ? 'NOT reached' : `${partition.heal_s} s after healing`}`,
  );
  Object.assign(result, { partition_s: partitionS, ...partition });
}
if (scenario === 'stabilize') {
  falseConvictions.partitioned = true; // wrong verdicts are part of the arbitrary start
  const stabilize = measureStabilization(sim, Math.max(5, Math.floor(nodes / 2)), 10 * 60_000);
  progress(
    `stabilize: true membership ${stabilize.stabilize_s === null ? 'NOT reached' : `after ${stabilize.stabilize_s} s`} (${stabilize.phantoms} phantoms, ${stabilize.refutations} refutations, expiry ${expiryS} s)`,
  );
  Object.assign(result, { expiry_s: expiryS, ...stabilize });
}
let detect: Record<string, number | null> | null = null;
if (crash > 0) {
  const settleMs = measureFrom + settleS * 1000 - sim.now;
  if (settleMs > 0) {
    progress(`settling ${Math.ceil(settleMs / 1000)} s before the crash, so every detector judges by phi`);
    sim.runFor(settleMs);
  }
  const detection = measureDetection(sim, crash, 120_000, progress);
  detect = {
    first: round(percentile(detection.delays, 0)),
    median: round(percentile(detection.delays, 50)),
    last: detection.undetected > 0 ? null : round(percentile(detection.delays, 100)),
    undetected: detection.undetected,
  };
  progress(
    `detection: ${detection.crashed} crashed, verdicts first ${detect.first} s, median ${detect.median} s, last ${detect.last} s, ${detection.undetected} missing`,
  );
}
const remaining = measureFrom + durationS * 1000 - sim.now;
if (remaining > 0) {
  const step = Math.max(intervalMs, 60_000);
  for (let left = remaining; left > 0; left -= step) {
    sim.runFor(Math.min(step, left));
    if (left > step)
      progress(
        `  steady state: t=${((sim.now - measureFrom) / 1000).toFixed(0)} s of ${durationS} s, false convictions ${falseConvictions.count}`,
      );
  }
}
const windowS = (sim.now - measureFrom) / 1000;
let bytes = 0;
let msgs = 0;
for (const node of sim.nodes) {
  bytes += node.bytesSent;
  msgs += node.msgsSent;
}
Object.assign(result, {
  duration_s: round(windowS, 1),
  rounds_to_converge: {
    p50: round(percentile(convergence.rounds, 50), 1),
    p99: round(percentile(convergence.rounds, 99), 1),
    max: round(percentile(convergence.rounds, 100), 1),
    trials: convergence.trials,
    completed: convergence.completed,
  },
  detect_s: detect,
  ...(gapStats ? { heartbeat_gaps: roundGaps(gapStats()) } : {}),
  false_convictions: falseConvictions.count,
  // Of which during the warm-up (young detectors judged by the first-contact timeout, under loss).
  false_convictions_warmup: warmupFalseConvictions,
  bytes_per_node_per_s: Math.round(bytes / nodes / windowS),
  msgs_per_node_per_s: round(msgs / nodes / windowS, 2),
  malformed: sim.nodes.reduce((sum, node) => sum + node.core.stats.malformed, 0),
  refused_generations: sim.nodes.reduce((sum, node) => sum + node.core.stats.refusedGenerations, 0),
  // Peers marked down on another node's gossiped verdict, over the whole run (warm-up included).
  adopted_verdicts: sim.nodes.reduce((sum, node) => sum + node.core.stats.adoptedVerdicts, 0),
  refused_verdicts: sim.nodes.reduce((sum, node) => sum + node.core.stats.refusedVerdicts, 0),
});
function roundGaps(stats: ReturnType<NonNullable<typeof gapStats>>): object {
  return { ...stats, mean_s: round(stats.mean_s, 3), sd_s: round(stats.sd_s, 3), max_s: round(stats.max_s, 2) };
}

progress(`done in ${((performance.now() - wallStart) / 1000).toFixed(1)} s of wall time`);
console.log(JSON.stringify(result));
