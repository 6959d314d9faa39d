import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { HeartbeatWindow } from './heartbeat-window.js';

describe('HeartbeatWindow', () => {
  it('property: running mean and population variance equal a full re-scan of the last `capacity` samples', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.double({ min: 0, max: 1e5, noNaN: true }), { maxLength: 300 }),
        (capacity, xs) => {
          const w = new HeartbeatWindow(capacity);
          for (const x of xs) w.add(x);
          const kept = xs.slice(-capacity);
          expect(w.size).toBe(kept.length);
          if (kept.length === 0) return;
          const mean = kept.reduce((a, b) => a + b, 0) / kept.length;
          const variance = kept.reduce((a, x) => a + (x - mean) ** 2, 0) / kept.length;
          expect(Math.abs(w.mean - mean)).toBeLessThanOrEqual(1e-6 * Math.max(1, mean));
          expect(Math.abs(w.variance - variance)).toBeLessThanOrEqual(1e-3 * Math.max(1, mean * mean) * 1e-3 + 1e-6);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does not drift over millions of samples', () => {
    const w = new HeartbeatWindow(1000);
    for (let i = 0; i < 2_000_000; i++) w.add(1000 + (i % 7) * 13.37);
    const kept = Array.from({ length: 1000 }, (_, k) => 1000 + ((2_000_000 - 1000 + k) % 7) * 13.37);
    const mean = kept.reduce((a, b) => a + b) / 1000;
    expect(w.mean).toBeCloseTo(mean, 6);
  });
});
