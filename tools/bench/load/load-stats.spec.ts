import { describe, expect, it } from '@jest/globals';
import { LatencyHistogram } from './latency-histogram.js';
import { rssTrend } from './rss.js';

describe('LatencyHistogram', () => {
  it('gives percentiles within 1% of the exact ones', () => {
    const h = new LatencyHistogram();
    const samples = Array.from({ length: 10_000 }, (_, i) => 0.05 + (i % 1000) * 0.37);
    samples.forEach((s) => h.record(s));
    const sorted = [...samples].sort((a, b) => a - b);
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = sorted[Math.ceil(q * sorted.length) - 1];
      expect(Math.abs(h.quantile(q) - exact) / exact).toBeLessThan(0.011);
    }
    expect(h.count).toBe(10_000);
    expect(h.quantile(1)).toBeCloseTo(sorted.at(-1)!, 6);
  });

  it('merges, is 0 when empty, and refuses a negative latency', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    expect(a.quantile(0.99)).toBe(0);
    a.record(1);
    b.record(100);
    a.merge(b);
    expect(a.count).toBe(2);
    expect(a.quantile(1)).toBe(100);
    expect(() => a.record(-1)).toThrow(/non-negative/);
  });
});

describe('rssTrend', () => {
  it('sees a leak as growth over the second half, and a plateau as none', () => {
    const leak = Array.from({ length: 40 }, (_, i) => 100 + i * 2);
    const plateau = Array.from({ length: 40 }, (_, i) => 100 + Math.min(i, 10) * 5 + (i % 3)); // warm-up, then a GC sawtooth
    expect(rssTrend(leak).growth_second_half_mb).toBeGreaterThan(35);
    expect(Math.abs(rssTrend(plateau).growth_second_half_mb)).toBeLessThanOrEqual(2);
    expect(rssTrend(plateau).growth_first_half_mb).toBeGreaterThan(40);
  });

  it('needs enough samples', () => {
    expect(() => rssTrend([1, 2, 3])).toThrow(/at least 8/);
  });
});
