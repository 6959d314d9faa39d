import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { PhiAccrualFailureDetector } from './phi-accrual-failure-detector.js';

const AKKA = {
  threshold: 8,
  maxSampleSize: 1000,
  minStdDeviationMs: 100,
  acceptableHeartbeatPauseMs: 3000,
  firstHeartbeatEstimateMs: 1000,
};

function beatEvery(fd: PhiAccrualFailureDetector, intervalMs: number, count: number, start = 0): number {
  let t = start;
  for (let i = 0; i < count; i++, t += intervalMs) fd.heartbeat(t);
  return t - intervalMs;
}

describe('PhiAccrualFailureDetector', () => {
  it('has phi 0 before the first heartbeat, whatever the time', () => {
    const fd = new PhiAccrualFailureDetector(AKKA);
    expect(fd.phi(0)).toBe(0);
    expect(fd.phi(1e12)).toBe(0);
    expect(fd.isAvailable(1e12)).toBe(true);
  });

  it('seeds the window from firstHeartbeatEstimateMs as Akka does (mean, deviation mean/4)', () => {
    const fd = new PhiAccrualFailureDetector(AKKA);
    fd.heartbeat(5000);
    const s = fd.snapshot(5000);
    expect(s.samples).toBe(2);
    expect(s.meanMs).toBe(1000);
    expect(s.stdDeviationMs).toBe(250);
  });

  it('still convicts a node heard from once and never again', () => {
    const fd = new PhiAccrualFailureDetector(AKKA);
    fd.heartbeat(0);
    expect(fd.isAvailable(3000)).toBe(true);
    expect(fd.isAvailable(60_000)).toBe(false);
  });

  it("convicts a steady 1 s heartbeat after Akka's documented ~5.5 s of silence, not before 4 s", () => {
    const fd = new PhiAccrualFailureDetector(AKKA);
    const last = beatEvery(fd, 1000, 100);
    expect(fd.isAvailable(last + 4000)).toBe(true);
    expect(fd.isAvailable(last + 6000)).toBe(false);
  });

  it('uses the population standard deviation of the window', () => {
    const fd = new PhiAccrualFailureDetector({ ...AKKA, maxSampleSize: 4, firstHeartbeatEstimateMs: 1000 });
    // seed 750,1250 then intervals 1000, 1400: window [750,1250,1000,1400]
    fd.heartbeat(0);
    fd.heartbeat(1000);
    fd.heartbeat(2400);
    const s = fd.snapshot(2400);
    const xs = [750, 1250, 1000, 1400];
    const mean = xs.reduce((a, b) => a + b) / 4;
    const pop = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / 4);
    expect(s.meanMs).toBeCloseTo(mean, 9);
    expect(s.stdDeviationMs).toBeCloseTo(pop, 9);
  });

  it('keeps at most maxSampleSize intervals', () => {
    const fd = new PhiAccrualFailureDetector({ ...AKKA, maxSampleSize: 10 });
    beatEvery(fd, 500, 100);
    const s = fd.snapshot(0);
    expect(s.samples).toBe(10);
    expect(s.meanMs).toBe(500);
  });

  it('does not record an interval longer than maxIntervalMs, so an outage does not teach that silence is normal', () => {
    const fd = new PhiAccrualFailureDetector({ ...AKKA, maxIntervalMs: 4000 });
    const last = beatEvery(fd, 1000, 20);
    fd.heartbeat(last + 60_000);
    const s = fd.snapshot(last + 60_000);
    expect(s.samples).toBe(21); // 2 seeded + 19 measured; the 60 s gap is not among them
    expect(s.meanMs).toBeLessThan(1000.1);
    expect(s.lastHeartbeatMs).toBe(last + 60_000);
  });

  it('forgets everything on reset (a new generation)', () => {
    const fd = new PhiAccrualFailureDetector(AKKA);
    beatEvery(fd, 1000, 10);
    fd.reset();
    expect(fd.phi(1e9)).toBe(0);
    expect(fd.snapshot(0).samples).toBe(0);
  });

  it('exponential: phi = dt / (mean ln 10)', () => {
    const fd = new PhiAccrualFailureDetector({ ...AKKA, distribution: 'exponential' });
    const last = beatEvery(fd, 1000, 1000);
    expect(fd.phi(last + 1000)).toBeCloseTo(0.4343, 3);
    expect(fd.phi(last + 22_030)).toBeCloseTo(9.566, 2);
    expect(fd.isAvailable(last + 18_000)).toBe(true);
    expect(fd.isAvailable(last + 18_500)).toBe(false);
  });

  it('refuses nonsense options with a message naming them', () => {
    expect(() => new PhiAccrualFailureDetector({ threshold: 0 })).toThrow(/threshold/);
    expect(() => new PhiAccrualFailureDetector({ maxSampleSize: 0 })).toThrow(/maxSampleSize/);
    expect(() => new PhiAccrualFailureDetector({ distribution: 'weibull' as 'normal' })).toThrow(/distribution/);
  });

  // Heartbeat histories: gaps between successive heartbeats, any mix of short, long and zero.
  const history = fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 200 });
  const config = fc.record({
    distribution: fc.constantFrom('normal' as const, 'exponential' as const),
    maxSampleSize: fc.integer({ min: 1, max: 50 }),
    minStdDeviationMs: fc.integer({ min: 1, max: 500 }),
    acceptableHeartbeatPauseMs: fc.integer({ min: 0, max: 5000 }),
    firstHeartbeatEstimateMs: fc.integer({ min: 1, max: 5000 }),
  });

  it('property: phi never decreases while silence grows, and is never negative or NaN', () => {
    fc.assert(
      fc.property(
        config,
        history,
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 2, maxLength: 30 }),
        (options, gaps, probes) => {
          const fd = new PhiAccrualFailureDetector(options);
          let t = 0;
          for (const gap of gaps) fd.heartbeat((t += gap));
          let previous = -1;
          for (const offset of [...probes].sort((a, b) => a - b)) {
            const phi = fd.phi(t + offset);
            expect(Number.isNaN(phi)).toBe(false);
            expect(phi).toBeGreaterThanOrEqual(0);
            expect(phi).toBeGreaterThanOrEqual(previous);
            previous = phi;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
