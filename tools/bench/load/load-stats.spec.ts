import { describe, expect, it } from '@jest/globals';
import { LatencyHistogram } from './latency-histogram.js';
import { retainedTrend, type HeapCheckpoint } from './retained-heap.js';
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

describe('retainedTrend', () => {
  const at = (requests: number, heapMb: number): HeapCheckpoint => ({
    t_s: requests / 1000,
    requests,
    heap_mb: [heapMb],
    external_mb: [3],
  });

  it('measures the second half against requests: a leak is bytes per request, a plateau none', () => {
    // 200 bytes kept per request from the start; the middle checkpoint is the third of five.
    const leak = [0, 10_000, 20_000, 30_000, 40_000].map((r) => at(r, 20 + (r * 200) / 1048576));
    expect(retainedTrend(leak)[0]).toMatchObject({ requests_second_half: 20_000, bytes_per_request: 200 });
    expect(retainedTrend(leak)[0].growth_second_half_mb).toBeCloseTo(3.81, 2);
    // Warm-up (code, the first requests) in the first half, flat after.
    const plateau = [at(0, 20), at(5000, 21.5), at(12_000, 21.9), at(20_000, 21.95), at(31_000, 21.9)];
    expect(retainedTrend(plateau)[0]).toMatchObject({ mid_mb: 21.9, end_mb: 21.9, growth_second_half_mb: 0 });
  });

  it('needs a start, a middle and an end', () => {
    expect(() => retainedTrend([at(0, 20), at(10, 20)])).toThrow(/at least 3/);
  });
});
