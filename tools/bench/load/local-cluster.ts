import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { heapProbeFlags } from './retained-heap.js';

/** A port the OS says is free now (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface LocalNode {
  index: number;
  gossipPort: number;
  httpPort: number;
  process: ChildProcess;
}

interface ClusterJson {
  self: string | { id: string };
  members: { id: string; status: string }[];
}

function getJson(url: string, timeoutMs: number): Promise<ClusterJson> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        clearTimeout(timer);
        if (res.statusCode !== 200) return reject(new Error(`${url}: ${res.statusCode}`));
        try {
          resolve(JSON.parse(body) as ClusterJson);
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`${url}: no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end();
  });
}

/**
 * N processes of the example app on loopback, each with free ports, seeded by the first; their output
 * goes to `logDir`. Each carries the heap probe (see retained-heap.ts) and `nodeFlags` (e.g.
 * `--max-old-space-size=…`). Resolves once every node answers `GET /cluster` with all N members up.
 */
export async function startLocalCluster(opts: {
  entry: string;
  nodes: number;
  logDir: string;
  nodeFlags?: string[];
  readyTimeoutMs?: number;
  /** `lmdb` (the app's default: each node's data in a fresh temporary folder, removed at stop) or `memory`. */
  storage?: 'lmdb' | 'memory';
}): Promise<LocalNode[]> {
  mkdirSync(opts.logDir, { recursive: true });
  const dataRoot = mkdtempSync(join(tmpdir(), 'kv-bench-'));
  const flags = [...heapProbeFlags(), ...(opts.nodeFlags ?? [])];
  const ports = [];
  for (let i = 0; i < opts.nodes; i++) ports.push({ gossip: await freePort(), http: await freePort() });
  const seeds = `127.0.0.1:${ports[0].gossip}`;
  const nodes: LocalNode[] = ports.map((p, index) => {
    const child = spawn(
      process.execPath,
      [
        ...flags,
        opts.entry,
        '--port',
        String(p.gossip),
        '--http',
        String(p.http),
        '--seeds',
        seeds,
        '--host',
        '127.0.0.1',
        '--cluster',
        `load-${process.pid}`,
        '--storage',
        opts.storage ?? 'lmdb',
        '--data-dir',
        join(dataRoot, `node-${index}`),
      ],
      { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] },
    );
    const log = createWriteStream(join(opts.logDir, `node-${index}.log`));
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    child.once('exit', () => {
      if (nodes.every((n) => n.process.exitCode !== null || n.process.signalCode !== null))
        rmSync(dataRoot, { recursive: true, force: true });
    });
    return { index, gossipPort: p.gossip, httpPort: p.http, process: child };
  });
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  for (;;) {
    const exited = nodes.find((n) => n.process.exitCode !== null || n.process.signalCode !== null);
    if (exited) {
      await stopLocalCluster(nodes);
      throw new Error(`node ${exited.index} exited during start-up (see ${opts.logDir})`);
    }
    const ready = await Promise.all(
      nodes.map((n) =>
        getJson(`http://127.0.0.1:${n.httpPort}/cluster`, 2000).then(
          (view) => view.members.filter((m) => m.status === 'up').length >= opts.nodes,
          () => false,
        ),
      ),
    );
    if (ready.every(Boolean)) return nodes;
    if (Date.now() > deadline) {
      await stopLocalCluster(nodes);
      throw new Error(`the cluster did not come up (every node seeing ${opts.nodes} up) in time; see ${opts.logDir}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** SIGTERM each node; SIGKILL what is still there after 10 s. */
export async function stopLocalCluster(nodes: LocalNode[]): Promise<void> {
  await Promise.all(
    nodes.map(
      (n) =>
        new Promise<void>((resolve) => {
          if (n.process.exitCode !== null || n.process.signalCode !== null) return resolve();
          const timer = setTimeout(() => n.process.kill('SIGKILL'), 10_000);
          n.process.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          n.process.kill('SIGTERM');
        }),
    ),
  );
}
