// `npm run bench -- load [--duration-s 300] [--max-requests N] [--concurrency 32] [--nodes 3] [--keys 10000]
//   [--value-bytes 100] [--read-share 0.5] [--sample-s 5] [--heap-checkpoints 10] [--node-flag F]...
//   [--storage lmdb|memory] [--app dist/apps/kv-store/main.js]`
// (`--storage`: the nodes' engine, lmdb by default, as the app's.)
// A sustained load on a local cluster of the example app: concurrent PUT/GET through every node;
// throughput, p50/p99 latency, each node's RSS over time, and its retained memory after a full GC at
// checkpoints (what it keeps per request served should be nothing once the key space is full).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { driveLoad, type LoadOptions, type LoadResult } from './load/load-driver.js';
import { startLocalCluster, stopLocalCluster } from './load/local-cluster.js';

export const KV_STORE_ENTRY = 'dist/apps/kv-store/main.js';

export interface RunLoadOptions extends LoadOptions {
  nodes: number;
  /** The node program; default the example app (built first). */
  entry: string;
  logDir: string;
  storage?: 'lmdb' | 'memory';
  /** Extra node flags for every node, e.g. `--max-old-space-size=128`. */
  nodeFlags?: string[];
}

/** Starts the cluster, drives the load, stops the cluster: the whole benchmark, as a function. */
export async function runLoad(opts: RunLoadOptions, progress: (line: string) => void = () => {}): Promise<LoadResult> {
  const nodes = await startLocalCluster({
    entry: opts.entry,
    nodes: opts.nodes,
    logDir: opts.logDir,
    storage: opts.storage,
    nodeFlags: opts.nodeFlags,
  });
  progress(
    `${opts.nodes} nodes up (storage ${opts.storage ?? 'lmdb'}) (pids ${nodes.map((n) => n.process.pid).join(', ')}); load for ${opts.durationS} s${opts.maxRequests === undefined ? '' : ` or ${opts.maxRequests} requests`} at concurrency ${opts.concurrency}`,
  );
  try {
    return await driveLoad(nodes, opts, progress);
  } finally {
    await stopLocalCluster(nodes);
  }
}

function number(name: string, text: string | undefined, fallback: number, check: (x: number) => boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || !check(value)) throw new Error(`--${name}: invalid value ${JSON.stringify(text)}`);
  return value;
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      'duration-s': { type: 'string' },
      'max-requests': { type: 'string' },
      concurrency: { type: 'string' },
      nodes: { type: 'string' },
      keys: { type: 'string' },
      'value-bytes': { type: 'string' },
      'read-share': { type: 'string' },
      'sample-s': { type: 'string' },
      'heap-checkpoints': { type: 'string' },
      'node-flag': { type: 'string', multiple: true },
      app: { type: 'string' },
      storage: { type: 'string' },
    },
  });
  const positive = (x: number) => x > 0;
  const storage = values.storage ?? 'lmdb';
  if (storage !== 'lmdb' && storage !== 'memory') throw new Error(`--storage: lmdb or memory, got ${storage}`);
  const opts: RunLoadOptions = {
    durationS: number('duration-s', values['duration-s'], 300, positive),
    maxRequests:
      values['max-requests'] === undefined
        ? undefined
        : number('max-requests', values['max-requests'], 0, (x) => Number.isInteger(x) && x > 0),
    concurrency: number('concurrency', values.concurrency, 32, (x) => Number.isInteger(x) && x > 0),
    nodes: number('nodes', values.nodes, 3, (x) => Number.isInteger(x) && x > 0),
    keys: number('keys', values.keys, 10_000, (x) => Number.isInteger(x) && x > 0),
    valueBytes: number('value-bytes', values['value-bytes'], 100, (x) => Number.isInteger(x) && x >= 0),
    readShare: number('read-share', values['read-share'], 0.5, (x) => x >= 0 && x <= 1),
    sampleEveryS: number('sample-s', values['sample-s'], 5, positive),
    heapCheckpoints: number('heap-checkpoints', values['heap-checkpoints'], 10, (x) => Number.isInteger(x) && x >= 2),
    nodeFlags: values['node-flag'],
    timeoutMs: 10_000,
    entry: values.app ?? KV_STORE_ENTRY,
    logDir: join('test-artifacts', 'bench-load'),
    storage,
  };
  if (values.app === undefined) {
    // `npm run bench` builds the library and the tools; the app is built here.
    const built = spawnSync(
      process.execPath,
      ['node_modules/typescript/bin/tsc', '-p', 'apps/kv-store/tsconfig.app.json'],
      { stdio: 'inherit' },
    );
    if (built.status !== 0) throw new Error('building apps/kv-store failed');
  }
  const result = await runLoad(opts, (line) => console.log(line));
  console.log(JSON.stringify({ bench: 'load', storage, ...result, node: process.version }));
}
