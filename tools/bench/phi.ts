// `npm run bench -- phi`: the cost of one phi evaluation and of checking 1000 peers, against the
// straightforward implementation a user would write instead (re-scan the window on every call).
import { PeerFailureDetectors, PhiAccrualFailureDetector, DEFAULT_FAILURE_DETECTOR } from 'elastica';
import { phiNormal } from 'elastica/testing';

const WINDOW = 1000;

/** The naive alternative: keep the samples, recompute mean and deviation on every phi. */
class RescanningDetector {
  private readonly samples: number[] = [];
  private last = 0;
  heartbeat(now: number): void {
    if (this.last !== 0) {
      this.samples.push(now - this.last);
      if (this.samples.length > WINDOW) this.samples.shift();
    }
    this.last = now;
  }
  phi(now: number): number {
    const n = this.samples.length;
    let sum = 0;
    for (const s of this.samples) sum += s;
    const mean = sum / n;
    let sq = 0;
    for (const s of this.samples) sq += (s - mean) ** 2;
    const sd = Math.max(Math.sqrt(sq / n), 100);
    return phiNormal(now - this.last, mean + 3000, sd);
  }
}

function nsPer(iterations: number, body: (i: number) => number): number {
  let sink = 0;
  for (let i = 0; i < Math.min(iterations, 100_000); i++) sink += body(i); // warm-up for the JIT
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink += body(i);
  const elapsed = Number(process.hrtime.bigint() - start);
  if (sink === -1) console.log('unreachable'); // keeps the loop from being optimised away
  return elapsed / iterations;
}

function jitteredBeats(target: { heartbeat(now: number): void }, count: number): number {
  let t = 1;
  for (let i = 0; i < count; i++) target.heartbeat((t += 900 + ((i * 7919) % 200)));
  return t;
}

export function run(argv: string[]): void {
  const iterations = Number(argv[argv.indexOf('--iterations') + 1]) || 5_000_000;
  console.log(`phi bench: window ${WINDOW} samples, ${iterations} evaluations per measurement`);

  const normal = new PhiAccrualFailureDetector({ maxSampleSize: WINDOW });
  const lastNormal = jitteredBeats(normal, 2 * WINDOW);
  const nsNormal = nsPer(iterations, (i) => normal.phi(lastNormal + (i % 8000)));
  console.log(`normal: ${nsNormal.toFixed(1)} ns per phi`);

  const exponential = new PhiAccrualFailureDetector({ maxSampleSize: WINDOW, distribution: 'exponential' });
  const lastExp = jitteredBeats(exponential, 2 * WINDOW);
  const nsExp = nsPer(iterations, (i) => exponential.phi(lastExp + (i % 8000)));
  console.log(`exponential: ${nsExp.toFixed(1)} ns per phi`);

  const naive = new RescanningDetector();
  const lastNaive = jitteredBeats(naive, 2 * WINDOW);
  const nsNaive = nsPer(Math.max(10_000, iterations / 500), (i) => naive.phi(lastNaive + (i % 8000)));
  console.log(`re-scanning window: ${nsNaive.toFixed(1)} ns per phi`);

  const peers = new PeerFailureDetectors({ ...DEFAULT_FAILURE_DETECTOR, maxSampleSize: WINDOW });
  let now = 0;
  for (let round = 0; round < WINDOW + 2; round++) {
    now += 1000;
    for (let p = 0; p < 1000; p++)
      peers.heartbeat(`10.0.${p >> 8}.${p & 255}:7000`, 1, now + ((p * 31 + round * 17) % 300));
  }
  const sweeps = 2000;
  const msPer1000 = nsPer(sweeps, (i) => peers.sweep(now + 300 + (i % 1000)).length) / 1e6;
  console.log(`1000 peers swept in ${msPer1000.toFixed(3)} ms`);

  console.log(
    JSON.stringify({
      ns_per_phi: round(nsNormal, 1),
      ns_per_phi_exponential: round(nsExp, 1),
      ms_per_1000_peers: round(msPer1000, 4),
      rescanning: { ns_per_phi: round(nsNaive, 1) },
      ratio_vs_rescanning: round(nsNaive / nsNormal, 1),
      window: WINDOW,
      node: process.version,
    }),
  );
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
