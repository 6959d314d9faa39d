import { Agent, request } from 'node:http';
import { LatencyHistogram } from './latency-histogram.js';
import type { LocalNode } from './local-cluster.js';
import { retainedMemory, retainedTrend, type HeapCheckpoint, type RetainedTrend } from './retained-heap.js';
import { rssBytes, rssTrend, type RssTrend } from './rss.js';

export interface LoadOptions {
  /** The run ends after this long, or after `maxRequests` if that comes first. */
  durationS: number;
  maxRequests?: number;
  /** How many times the load pauses for a heap checkpoint (evenly over the run; the last one ends it). */
  heapCheckpoints: number;
  concurrency: number;
  /** Keys drawn uniformly from this many, every one written once before the load: the data set is full
   *  from the start, so what the nodes keep from then on is not data. */
  keys: number;
  valueBytes: number;
  /** Share of GETs (0..1); the rest are PUTs. */
  readShare: number;
  sampleEveryS: number;
  timeoutMs: number;
}

export interface LoadResult {
  nodes: number;
  duration_s: number;
  concurrency: number;
  requests: number;
  errors: number;
  error_kinds: Record<string, number>;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  put: { count: number; p50_ms: number; p99_ms: number };
  get: { count: number; p50_ms: number; p99_ms: number };
  /** Seconds since the start of the load for each sample, and each node's RSS (MB) at those times. */
  sample_times_s: number[];
  rss_mb: number[][];
  /** RSS depends on the request rate (V8 grows its heap with the bytes allocated); reported, not judged. */
  rss_trend: RssTrend[];
  /** Retained memory after a full GC at the start and at evenly spaced points of the run, load paused. */
  heap_checkpoints: HeapCheckpoint[];
  /** Per node, retained memory over the second half against requests served: the leak check. */
  retained_trend: RetainedTrend[];
}

type Progress = (line: string) => void;

/** The status, and for an error status the start of the body (what the node said went wrong). */
function once(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  body: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; error?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        let error = '';
        res.on('data', (chunk: Buffer) => {
          if (status >= 500 && error.length < 300) error += chunk.toString('utf8', 0, 300 - error.length);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status, error: error || undefined });
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('timeout')), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(body);
  });
}

/**
 * Concurrent clients, each PUT or GET on a random key through a random node, back to back, until the
 * run is over (`durationS` or `maxRequests`, whichever first); latencies into histograms; every node's
 * RSS sampled at a steady pace. At the start and at `heapCheckpoints` evenly spaced points of the run
 * (by time or by requests, whichever is further along) the clients stop, the requests in flight end,
 * and every node reports its retained memory after a full GC; then the load resumes.
 */
export async function driveLoad(
  nodes: LocalNode[],
  opts: LoadOptions,
  progress: Progress = () => {},
): Promise<LoadResult> {
  // An idle pooled socket is closed by the client after 4 s, before the server's keep-alive timeout
  // (Node's 5 s) closes it: reusing one at the moment the server closes it fails the request with
  // ECONNRESET (the classic keep-alive race; 2 GETs of 3 million in a 5-minute run whose rate dipped).
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency, timeout: 4000 });
  const puts = new LatencyHistogram();
  const gets = new LatencyHistogram();
  const errorKinds: Record<string, number> = {};
  const value = 'x'.repeat(opts.valueBytes);
  const sampleTimes: number[] = [];
  const rss: number[][] = nodes.map(() => []);
  const checkpoints: HeapCheckpoint[] = [];
  let requests = 0;
  let windowRequests = 0;
  let pausedMs = 0;
  const mb = (bytes: number) => Math.round((bytes / 1048576) * 100) / 100;

  // Written in order, not drawn: at random, 2,000 keys take ~16,000 PUTs on average to be all written, so at a
  // low rate the data set was still growing in the second half of a CI run.
  const prefillStart = Date.now();
  let nextKey = 0;
  const writer = async () => {
    while (nextKey < opts.keys) {
      const k = nextKey++;
      const node = nodes[k % nodes.length];
      const { status, error } = await once(agent, node.httpPort, 'PUT', `/kv/key-${k}`, value, opts.timeoutMs);
      if (status !== 204)
        throw new Error(`writing the key space before the load: PUT key-${k}: status ${status} ${error ?? ''}`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, writer));
  progress(`${opts.keys} keys written in ${((Date.now() - prefillStart) / 1000).toFixed(1)} s`);

  const checkpoint = async (t: number) => {
    const paused = Date.now();
    const retained = await Promise.all(nodes.map((n) => retainedMemory(n.process)));
    checkpoints.push({
      t_s: Math.round(t * 10) / 10,
      requests,
      heap_mb: retained.map((r) => mb(r.heapUsed)),
      external_mb: retained.map((r) => mb(r.external)),
    });
    progress(
      `heap checkpoint after ${requests} requests: heap_mb=[${checkpoints.at(-1)!.heap_mb.join(', ')}] external_mb=[${checkpoints.at(-1)!.external_mb.join(', ')}]`,
    );
    pausedMs += Date.now() - paused;
  };
  await checkpoint(0);

  const start = Date.now();
  // The run's progress from 0 to 1: load time (pauses for checkpoints excluded) or requests.
  const done = () =>
    Math.max(
      (Date.now() - start - pausedMs) / (opts.durationS * 1000),
      opts.maxRequests === undefined ? 0 : requests / opts.maxRequests,
    );

  const sample = () => {
    const t = (Date.now() - start) / 1000;
    sampleTimes.push(Math.round(t * 10) / 10);
    nodes.forEach((n, i) => rss[i].push(Math.round(((rssBytes(n.process.pid!) ?? 0) / 1048576) * 10) / 10));
    progress(
      `t=${t.toFixed(0)}s rps=${(windowRequests / opts.sampleEveryS).toFixed(0)} p99=${Math.max(puts.quantile(0.99), gets.quantile(0.99)).toFixed(2)}ms errors=${Object.values(errorKinds).reduce((a, b) => a + b, 0)} rss_mb=[${nodes.map((_, i) => rss[i].at(-1)).join(', ')}]`,
    );
    windowRequests = 0;
  };
  sample();
  const sampler = setInterval(sample, opts.sampleEveryS * 1000);

  const client = async (until: number) => {
    while (done() < until) {
      const node = nodes[Math.floor(Math.random() * nodes.length)];
      const path = `/kv/key-${Math.floor(Math.random() * opts.keys)}`;
      const read = Math.random() < opts.readShare;
      const t0 = performance.now();
      try {
        const { status, error } = await once(
          agent,
          node.httpPort,
          read ? 'GET' : 'PUT',
          path,
          read ? undefined : value,
          opts.timeoutMs,
        );
        const ok = read ? status === 200 || status === 404 : status === 204;
        // Key names and node addresses vary; the kind is what went wrong.
        if (!ok)
          throw new Error(`status ${status}${error ? `: ${error.replace(/key-\d+|127\.0\.0\.1:\d+/g, '…')}` : ''}`);
        (read ? gets : puts).record(performance.now() - t0);
      } catch (error) {
        const kind = `${read ? 'get' : 'put'}: ${(error as Error).message}`;
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      }
      requests += 1;
      windowRequests += 1;
    }
  };
  try {
    for (let i = 1; i <= opts.heapCheckpoints; i++) {
      const until = i / opts.heapCheckpoints;
      await Promise.all(Array.from({ length: opts.concurrency }, () => client(until)));
      await checkpoint((Date.now() - start) / 1000);
    }
  } finally {
    clearInterval(sampler);
  }
  sample();
  agent.destroy();

  const all = new LatencyHistogram();
  all.merge(puts);
  all.merge(gets);
  const elapsedS = (Date.now() - start - pausedMs) / 1000;
  const errors = Object.values(errorKinds).reduce((a, b) => a + b, 0);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    nodes: nodes.length,
    duration_s: r2(elapsedS),
    concurrency: opts.concurrency,
    requests: all.count + errors,
    errors,
    error_kinds: errorKinds,
    rps: Math.round(all.count / elapsedS),
    p50_ms: r2(all.quantile(0.5)),
    p99_ms: r2(all.quantile(0.99)),
    max_ms: r2(all.max),
    put: { count: puts.count, p50_ms: r2(puts.quantile(0.5)), p99_ms: r2(puts.quantile(0.99)) },
    get: { count: gets.count, p50_ms: r2(gets.quantile(0.5)), p99_ms: r2(gets.quantile(0.99)) },
    sample_times_s: sampleTimes,
    rss_mb: rss,
    rss_trend: rss.map((samples) => rssTrend(samples)),
    heap_checkpoints: checkpoints,
    retained_trend: retainedTrend(checkpoints),
  };
}
