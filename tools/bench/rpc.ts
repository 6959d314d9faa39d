// `npm run bench -- rpc [--concurrency C] [--payload B] [--requests R] [--rounds N]`
// Request/response over Elastica vs Nest's built-in TCP transport (Transport.TCP + ClientProxy):
// the same echo handler, the same payload, the same run. The server is a child process (one Nest app
// serving both transports); the client is a Nest app in this process. Rounds alternate
// Elastica / Nest TCP so drift hits both alike. Last line: one JSON object.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serialize, deserialize } from 'node:v8';
import { firstValueFrom } from 'rxjs';
import { ClusterClient, decodeFrame, ElasticaModule, encodeRequest, TransportService } from 'elastica';

interface Figures { rps: number; p50_ms: number; p99_ms: number }

function flag(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} expects a positive number, got ${argv[i + 1]}`);
  return value;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** `total` calls with `concurrency` in flight; latencies of each, wall time of all. */
async function load(call: () => Promise<unknown>, total: number, concurrency: number): Promise<{ ms: number; latencies: Float64Array }> {
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

function summarise(runs: { ms: number; latencies: Float64Array }[]): Figures {
  const count = runs.reduce((n, r) => n + r.latencies.length, 0);
  const all = new Float64Array(count);
  let at = 0;
  for (const r of runs) {
    all.set(r.latencies, at);
    at += r.latencies.length;
  }
  all.sort();
  const ms = runs.reduce((n, r) => n + r.ms, 0);
  const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;
  return { rps: Math.round(count / (ms / 1000)), p50_ms: round(percentile(all, 0.5), 3), p99_ms: round(percentile(all, 0.99), 3) };
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
      const bytes = Buffer.from(JSON.stringify({ pattern: 'bench.echo', data, id: '6d3f1c2a-5b7e-4c11-9a55-0f2e8b1d7c33' }));
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
  const rounds = flag(argv, 'rounds', 3);
  const payload = 'x'.repeat(payloadBytes);

  console.log('codec: encode+decode of one request envelope (small object with a payload string)');
  const codec = codecFigures(payload);
  for (const [name, f] of Object.entries(codec)) console.log(`  ${name}: ${f.ns_per_roundtrip} ns, ${f.bytes} bytes`);

  const tcpPort = await freePort();
  const child = spawn(process.execPath, [join(dirname(fileURLToPath(import.meta.url)), 'rpc-server.js'), String(tcpPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const ports = JSON.parse(line.toString().trim().split('\n')[0]!) as { elastica: string; tcp: number };

  const app = await NestFactory.create(ClientModule, { logger: false });
  await app.init();
  try {
    const client = app.get(ClusterClient);
    const serverId = await app.get(TransportService).connect(ports.elastica);
    const tcp: ClientProxy = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: ports.tcp } });
    await tcp.connect();

    let wrong = 0;
    const check = (reply: unknown) => {
      if (reply !== payload) wrong++;
    };
    const viaElastica = () => firstValueFrom(client.send(serverId, 'bench.echo', payload)).then(check);
    const viaTcp = () => firstValueFrom(tcp.send('bench.echo', payload)).then(check);

    console.log(`warm-up (concurrency ${concurrency}, payload ${payloadBytes} B)`);
    await load(viaElastica, 5000, concurrency);
    await load(viaTcp, 5000, concurrency);
    const runs = { elastica: [] as { ms: number; latencies: Float64Array }[], nest_tcp: [] as { ms: number; latencies: Float64Array }[] };
    for (let r = 1; r <= rounds; r++) {
      const e = await load(viaElastica, requests, concurrency);
      runs.elastica.push(e);
      console.log(`round ${r}: elastica ${Math.round(requests / (e.ms / 1000))} req/s`);
      const t = await load(viaTcp, requests, concurrency);
      runs.nest_tcp.push(t);
      console.log(`round ${r}: nest_tcp ${Math.round(requests / (t.ms / 1000))} req/s`);
    }
    await tcp.close();
    const elastica = summarise(runs.elastica);
    const nest_tcp = summarise(runs.nest_tcp);
    const result = {
      bench: 'rpc', concurrency, payload_bytes: payloadBytes, requests_per_round: requests, rounds,
      setup: 'server: one Nest app in a child process serving the same echo handler over both transports; client: a Nest app in this process',
      node: process.version,
      elastica, nest_tcp,
      ratio_rps: Math.round((elastica.rps / nest_tcp.rps) * 100) / 100,
      ratio_p99: Math.round((elastica.p99_ms / nest_tcp.p99_ms) * 100) / 100,
      wrong_replies: wrong,
      codec,
    };
    console.log(JSON.stringify(result));
  } finally {
    await app.close();
    child.kill('SIGTERM');
  }
}
