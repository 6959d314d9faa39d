import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { KV_STORE_ENTRY, runLoad } from '../../tools/bench/load.js';
import type { RssTrend } from '../../tools/bench/load/rss.js';
import { ensureBuilt } from '../support/build.js';

// The CI version of `npm run bench -- load`: the same driver, shorter. Its assertion is about memory
// (and errors), never about speed: speed is reported by the bench, in docs/benchmarks.md.

/** Memory levels off: over the second half it grew by less than 32 MB or a quarter of its mid-run size. */
function levelsOff(trend: RssTrend): boolean {
  return trend.growth_second_half_mb <= Math.max(32, 0.25 * trend.second_quarter_mb);
}

describe('load driver (on a stand-in node)', () => {
  it('measures real requests: counts, percentiles, and RSS samples of the node', async () => {
    const result = await runLoad({
      entry: 'test/chaos/harness/stand-in-node.mjs',
      nodes: 1,
      durationS: 8,
      concurrency: 8,
      keys: 500,
      valueBytes: 64,
      readShare: 0.5,
      sampleEveryS: 1,
      timeoutMs: 5000,
      logDir: join('test-artifacts', 'load-stand-in'),
    });
    expect(result.errors).toBe(0);
    expect(result.requests).toBe(result.put.count + result.get.count);
    expect(result.put.count).toBeGreaterThan(0);
    expect(result.get.count).toBeGreaterThan(0);
    expect(result.p99_ms).toBeGreaterThanOrEqual(result.p50_ms);
    expect(result.p50_ms).toBeGreaterThan(0);
    expect(result.rss_mb[0].length).toBeGreaterThanOrEqual(8);
    expect(result.rss_mb[0].every((mb) => mb > 10)).toBe(true); // a node process is tens of MB at least
  }, 60_000);
});

describe('load on the example app (3 nodes, CI length)', () => {
  it('serves every request and its memory levels off', async () => {
    ensureBuilt();
    const result = await runLoad({
      entry: KV_STORE_ENTRY,
      nodes: 3,
      durationS: 45,
      concurrency: 16,
      keys: 2000,
      valueBytes: 100,
      readShare: 0.5,
      sampleEveryS: 1,
      timeoutMs: 10_000,
      logDir: join('test-artifacts', 'load'),
    });
    process.stdout.write(
      `load (CI length): ${JSON.stringify({ rps: result.rps, p50_ms: result.p50_ms, p99_ms: result.p99_ms, rss_trend: result.rss_trend, error_kinds: result.error_kinds })}\n`,
    );
    expect({ errors: result.errors, kinds: result.error_kinds }).toEqual({ errors: 0, kinds: {} });
    expect(result.put.count).toBeGreaterThan(0);
    expect(result.get.count).toBeGreaterThan(0);
    for (const trend of result.rss_trend)
      expect({ trend, levelsOff: levelsOff(trend) }).toEqual({ trend, levelsOff: true });
  }, 400_000);
});
