import { describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { KV_STORE_ENTRY, runLoad } from '../../tools/bench/load.js';
import type { RetainedTrend } from '../../tools/bench/load/retained-heap.js';
import { ensureBuilt } from '../support/build.js';

// The CI version of `npm run bench -- load`: the same driver, shorter. Its assertion is about memory
// (and errors), never about speed: speed is reported by the bench, in docs/benchmarks.md.

/**
 * What a node may keep over the second half of the run (by requests) without it being a leak. The
 * figure is the V8 heap used after a full GC, with the key space written before the load, so garbage
 * and data are out of it; what is left moves with V8's compiled code and its feedback still warming up:
 * +0.05 to +0.27 MB over a second half in this configuration, whatever the rate; up to +0.69 MB with
 * half the keys written first and a shorter run on a loaded machine. A leak grows with requests served:
 * keeping every 1000-byte PUT body is ~170 bytes per request per node (half the requests are PUTs, a
 * third come through each node), ten times the 16 allowed here.
 */
function keepsNothing(trend: RetainedTrend): boolean {
  return trend.growth_second_half_mb <= 1 + (16 * trend.requests_second_half) / 1048576;
}

describe('load driver (on a stand-in node)', () => {
  it('measures real requests: counts, percentiles, RSS samples and heap checkpoints of the node', async () => {
    const result = await runLoad({
      entry: 'test/chaos/harness/stand-in-node.mjs',
      nodes: 1,
      durationS: 8,
      concurrency: 8,
      keys: 500,
      valueBytes: 64,
      readShare: 0.5,
      sampleEveryS: 1,
      heapCheckpoints: 2,
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
    // Start, half-way, end; the probe answers from any node program, the stand-in's heap is a few MB.
    expect(result.heap_checkpoints.map((c) => c.requests)).toEqual([0, expect.any(Number), result.requests]);
    expect(result.heap_checkpoints.every((c) => c.heap_mb[0] > 1 && c.heap_mb[0] < 100)).toBe(true);
    expect(result.retained_trend).toHaveLength(1);
  }, 60_000);
});

describe('load on the example app (3 nodes, CI length)', () => {
  it('serves every request and keeps no memory per request', async () => {
    ensureBuilt();
    const result = await runLoad({
      entry: KV_STORE_ENTRY,
      nodes: 3,
      // Ends after 72,000 requests or 36 s, whichever first. The budget is per request served: a busy
      // machine serves fewer, which shrinks a leak's growth and the budget alike.
      durationS: 36,
      maxRequests: 72_000,
      concurrency: 16,
      keys: 2000,
      valueBytes: 1000,
      readShare: 0.5,
      sampleEveryS: 1,
      heapCheckpoints: 4,
      timeoutMs: 10_000,
      logDir: join('test-artifacts', 'load'),
    });
    process.stdout.write(
      `load (CI length): ${JSON.stringify({ rps: result.rps, p50_ms: result.p50_ms, p99_ms: result.p99_ms, requests: result.requests, rss_trend: result.rss_trend, heap_checkpoints: result.heap_checkpoints, retained_trend: result.retained_trend, error_kinds: result.error_kinds })}\n`,
    );
    expect({ errors: result.errors, kinds: result.error_kinds }).toEqual({ errors: 0, kinds: {} });
    expect(result.put.count).toBeGreaterThan(0);
    expect(result.get.count).toBeGreaterThan(0);
    // RSS is reported, not judged: it follows V8's heap growth, which depends on the bytes allocated so
    // far, i.e. on the request rate (at 700-1500 req/s the nodes still climbed towards their plateau at
    // 45 s, at 3000 req/s they had reached it: the test failed or passed with the machine's load).
    for (const trend of result.retained_trend)
      expect({ trend, keepsNothing: keepsNothing(trend) }).toEqual({ trend, keepsNothing: true });
  }, 400_000);
});
