// `npm run bench -- rpc [--concurrency C] [--payload B] [--requests R] [--rounds N] [--warmup R] [--warmup-rounds N] [--only elastica|nest_tcp] [--metrics]`
// Request/response over Elastica vs Nest's built-in TCP transport (Transport.TCP + ClientProxy):
// the same echo handler, the same payload, the same run. The server is a child process (one Nest app
// serving both transports); the client is a Nest app in this process. Rounds alternate
// Elastica / Nest TCP so drift hits both alike; the ratio is the median of the per-round ratios. Last line: one JSON object.
// `--metrics` adds a third run per round, Elastica with elastica/prometheus's call observer registered
// (`elastica_metrics`, and `ratio_metrics`: its rps over plain Elastica's, the median of the rounds).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { freePort } from './load/local-cluster.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialize, deserialize } from 'node:v8';
import { firstValueFrom } from 'rxjs';
import {
  ClusterClient,
  ElasticaModule,
  type CallObserver,
  FailureDetectorService,
  GossipService,
  PartitionerService,
  TransportService,
} from 'elastica';
import { decodeFrame, encodeRequest } from 'elastica/testing';
import { ElasticaMetrics } from 'elastica/prometheus';
import { Registry } from 'prom-client';

interface Figures {
  rps: number;
  p50_ms: number;
  p99_ms: number;
}

function flag(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} expects a positive number, got ${argv[i + 1]}`);
  return value;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** `total` calls with `concurrency` in flight; latencies of each, wall time of all. */
async function load(
  call: () => Promise<unknown>,
  total: number,
  concurrency: number,
): Promise<{ ms: number; latencies: Float64Array }> {
  const latencies = new Float64Array(total);
  let issued = 0;
  const worker = async () => {
    while (issued < total) {
      const i = issued++;
      const t0 = performance.now();
      await call();
      latencies[i] = performance.now() - t0;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ms: performance.now() - start, latencies };
}

/** The server's one JSON line of ports; whatever else it prints (node's traces) goes to stderr. */
async function serverPorts(out: Readable): Promise<{ elastica: string; tcp: number }> {
  const lines = createInterface({ input: out });
  let ports: { elastica: string; tcp: number } | undefined;
  const found = new Promise<void>((resolve, reject) => {
    lines.on('line', (line) => {
      if (!ports && line.startsWith('{"elastica"')) {
        ports = JSON.parse(line) as { elastica: string; tcp: number };
        resolve();
      } else process.stderr.write(`server: ${line}\n`);
    });
    lines.once('close', () => reject(new Error('the bench server exited before printing its ports')));
  });
  await found;
  return ports!;
}

interface Round {
  ms: number;
  latencies: Float64Array;
}

function round(x: number, d: number): number {
  return Math.round(x * 10 ** d) / 10 ** d;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function figures(r: Round): Figures {
  const sorted = Float64Array.from(r.latencies).sort();
  return {
    rps: Math.round(r.latencies.length / (r.ms / 1000)),
    p50_ms: round(percentile(sorted, 0.5), 3),
    p99_ms: round(percentile(sorted, 0.99), 3),
  };
}

/** Over all rounds: the median round's rate (one slow round, e.g. another job on the machine, does not skew it), percentiles of every latency. */
function summarise(runs: Round[]): Figures {
  const count = runs.reduce((n, r) => n + r.latencies.length, 0);
  const all = new Float64Array(count);
  let at = 0;
  for (const r of runs) {
    all.set(r.latencies, at);
    at += r.latencies.length;
  }
  all.sort();
  return {
    rps: Math.round(median(runs.map((r) => figures(r).rps))),
    p50_ms: round(percentile(all, 0.5), 3),
    p99_ms: round(percentile(all, 0.99), 3),
  };
}

/** Encode+decode cost of one request envelope, three ways: how the wire encoding was chosen. */
function codecFigures(payload: string) {
  const iterations = 200_000;
  const data = { key: 'user:42', value: payload, version: 7 };
  const ways: Record<string, () => number> = {
    elastica_binary_envelope_json_payload: () => {
      const frame = encodeRequest(123456, 'bench.echo', data);
      decodeFrame(frame.subarray(4));
      return frame.length;
    },
    json_envelope_like_nest_tcp: () => {
      const bytes = Buffer.from(
        JSON.stringify({ pattern: 'bench.echo', data, id: '6d3f1c2a-5b7e-4c11-9a55-0f2e8b1d7c33' }),
      );
      JSON.parse(bytes.toString());
      return bytes.length;
    },
    v8_serialize: () => {
      const bytes = serialize({ pattern: 'bench.echo', data, id: 123456 });
      deserialize(bytes);
      return bytes.length;
    },
  };
  const out: Record<string, { ns_per_roundtrip: number; bytes: number }> = {};
  for (const [name, fn] of Object.entries(ways)) {
    let bytes = 0;
    for (let i = 0; i < 20_000; i++) bytes = fn();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    out[name] = { ns_per_roundtrip: Math.round(Number(process.hrtime.bigint() - t0) / iterations), bytes };
  }
  return out;
}

@Module({ imports: [ElasticaModule.forRoot({ nodeId: 'bench-client', bind: { host: '127.0.0.1', port: 0 } })] })
class ClientModule {}

export async function run(argv: string[]): Promise<void> {
  const concurrency = flag(argv, 'concurrency', 64);
  const payloadBytes = flag(argv, 'payload', 100);
  const requests = flag(argv, 'requests', 50_000);
  const rounds = flag(argv, 'rounds', 5);
  const warmup = flag(argv, 'warmup', 20_000);
  const warmupRounds = flag(argv, 'warmup-rounds', 2);
  // Profiling aid: `--only elastica` or `--only nest_tcp` runs one side (no ratio).
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt < 0 ? undefined : argv[onlyAt + 1];
  if (only !== undefined && only !== 'elastica' && only !== 'nest_tcp')
    throw new Error(`--only expects elastica or nest_tcp, got ${only}`);
  const payload = 'x'.repeat(payloadBytes);
  const withMetrics = argv.includes('--metrics');

  const tcpPort = await freePort();
  // The server gets this process's node flags (--cpu-prof, --trace-gc, ... reach both sides).
  const child = spawn(
    process.execPath,
    [...process.execArgv, join(dirname(fileURLToPath(import.meta.url)), 'rpc-server.js'), String(tcpPort)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const ports = await serverPorts(child.stdout);

  const app = await NestFactory.create(ClientModule, { logger: false });
  await app.init();
  try {
    const client = app.get(ClusterClient);
    const serverId = await app.get(TransportService).connect(ports.elastica);
    const tcp: ClientProxy = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port: ports.tcp },
    });
    await tcp.connect();

    let wrong = 0;
    const check = (reply: unknown) => {
      if (reply !== payload) wrong++;
    };
    const viaElastica = () => firstValueFrom(client.send(serverId, 'bench.echo', payload)).then(check);
    // The metrics read at scrape time only the library's counters: what a call pays is the observer.
    const metrics = new ElasticaMetrics(
      {
        gossip: app.get(GossipService),
        detector: app.get(FailureDetectorService),
        partitioner: app.get(PartitionerService),
        transport: app.get(TransportService),
        client,
      },
      { registry: new Registry() },
    );
    // The observer alone, in a loop: what one call pays for it, free of the network's noise.
    const observerNs = (): number => {
      let observer: CallObserver | undefined;
      const capturing = { addObserver: (o: CallObserver) => ((observer = o), () => undefined) };
      const alone = new ElasticaMetrics(
        {
          gossip: app.get(GossipService),
          detector: app.get(FailureDetectorService),
          partitioner: app.get(PartitionerService),
          transport: app.get(TransportService),
          client: capturing as unknown as ClusterClient,
        },
        { registry: new Registry() },
      );
      alone.register();
      const n = 1_000_000;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) observer!.start('bench', 'bench.echo')!.end('ok');
      const ns = Number(process.hrtime.bigint() - t0) / n;
      alone.unregister();
      return Math.round(ns);
    };
    const observed = async (total: number) => {
      metrics.register();
      try {
        return await load(viaElastica, total, concurrency);
      } finally {
        metrics.unregister();
      }
    };
    const viaTcp = () => firstValueFrom(tcp.send('bench.echo', payload)).then(check);

    // Warm-up until both paths are JIT-compiled and their pools sized, interleaved like the rounds.
    console.log(
      `warm-up: ${warmupRounds} rounds of ${warmup} requests each way (concurrency ${concurrency}, payload ${payloadBytes} B)`,
    );
    for (let r = 0; r < warmupRounds; r++) {
      if (only !== 'nest_tcp') await load(viaElastica, warmup, concurrency);
      if (only !== 'elastica') await load(viaTcp, warmup, concurrency);
      if (withMetrics) await observed(warmup);
    }
    const metricRuns: Round[] = [];
    const metricRatios: number[] = [];
    const runs = { elastica: [] as Round[], nest_tcp: [] as Round[] };
    const perRound: { elastica?: Figures; nest_tcp?: Figures; ratio_rps?: number; ratio_p99?: number }[] = [];
    for (let r = 1; r <= rounds; r++) {
      // Interleaved, and which goes first alternates, so drift in the machine's load hits both alike.
      const order = r % 2 ? (['elastica', 'nest_tcp'] as const) : (['nest_tcp', 'elastica'] as const);
      const row: (typeof perRound)[number] = {};
      for (const which of order) {
        if (only && which !== only) continue;
        const result = await load(which === 'elastica' ? viaElastica : viaTcp, requests, concurrency);
        runs[which].push(result);
        row[which] = figures(result);
      }
      if (withMetrics) {
        const result = await observed(requests);
        metricRuns.push(result);
        if (row.elastica) metricRatios.push(round(figures(result).rps / row.elastica.rps, 2));
      }
      if (row.elastica && row.nest_tcp) {
        row.ratio_rps = round(row.elastica.rps / row.nest_tcp.rps, 2);
        row.ratio_p99 = round(row.elastica.p99_ms / row.nest_tcp.p99_ms, 2);
      }
      perRound.push(row);
      const show = (f?: Figures) => (f ? `${f.rps} req/s p99 ${f.p99_ms} ms` : '-');
      console.log(
        `round ${r}: elastica ${show(row.elastica)} | nest_tcp ${show(row.nest_tcp)} | ratio ${row.ratio_rps ?? '-'}`,
      );
    }
    await tcp.close();
    // After the rounds, not before: v8.serialize leaves hundreds of thousands of weak handles that V8
    // re-scans at every young-generation GC for a while, which slowed both transports' rounds (measured:
    // 15-45 ms scavenges instead of 1-4 ms).
    console.log('codec: encode+decode of one request envelope (small object with a payload string)');
    const codec = codecFigures(payload);
    for (const [name, f] of Object.entries(codec)) console.log(`  ${name}: ${f.ns_per_roundtrip} ns, ${f.bytes} bytes`);
    const elastica = runs.elastica.length ? summarise(runs.elastica) : null;
    const nest_tcp = runs.nest_tcp.length ? summarise(runs.nest_tcp) : null;
    const ratios = perRound.flatMap((row) => (row.ratio_rps === undefined ? [] : [row.ratio_rps]));
    const result = {
      bench: 'rpc',
      concurrency,
      payload_bytes: payloadBytes,
      requests_per_round: requests,
      rounds,
      warmup_rounds: warmupRounds,
      setup:
        'server: one Nest app in a child process serving the same echo handler over both transports; client: a Nest app in this process',
      node: process.version,
      elastica,
      nest_tcp,
      // The median of the per-round ratios: each ratio compares two runs made back to back.
      ratio_rps: ratios.length ? round(median(ratios), 2) : null,
      ratio_rps_min: ratios.length ? Math.min(...ratios) : null,
      ratio_p99: elastica && nest_tcp ? round(elastica.p99_ms / nest_tcp.p99_ms, 2) : null,
      per_round: perRound,
      wrong_replies: wrong,
      codec,
      ...(withMetrics
        ? {
            elastica_metrics: summarise(metricRuns),
            ratio_metrics: metricRatios.length ? round(median(metricRatios), 2) : null,
            ratio_metrics_range: metricRatios.length ? [Math.min(...metricRatios), Math.max(...metricRatios)] : null,
            metrics_observer_ns: observerNs(),
          }
        : {}),
    };
    console.log(JSON.stringify(result));
  } finally {
    await app.close();
    child.kill('SIGTERM');
  }
}
