import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { ensureBuilt, ROOT } from '../support/build.js';
import { freePort } from '../support/free-port.js';
import { until } from '../support/until.js';
import { http } from './support/http.js';

/**
 * `npm start` (tools/start.mjs) as a user runs it, minus the build (done once beforehand, under the
 * suites' build lock): it starts three nodes, prints the dashboard's address, and Ctrl-C (SIGINT to it
 * alone) stops every node it started. It does not wait for the ring to form (about 14 s at the default
 * 1 s gossip interval; the kv-store suite covers a forming cluster), so it takes a few seconds.
 */

const NODES = 3;

/** `count` consecutive loopback ports nobody listens on now (start.mjs takes ports base, base+1, …). */
async function freeRun(count: number): Promise<number> {
  const bindable = (port: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (;;) {
    const base = await freePort();
    if (base + count > 65535) continue;
    let ok = true;
    for (let i = 1; i < count && ok; i++) ok = await bindable(base + i);
    if (ok) return base;
  }
}

/** The pids of `parent`'s children, from /proc (every process whose parent is `parent`). */
function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // comm may hold spaces or parentheses: the fields after its closing parenthesis are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** One `npm start` run on the given ports and data root, for the data-keeping test: its stop is SIGINT, as Ctrl-C. */
function startRun(cluster: number, httpBase: number, dataRoot: string, extra: string[] = []) {
  const child = spawn(process.execPath, ['tools/start.mjs', '--no-build', ...extra], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ELASTICA_START_PORT: String(cluster),
      ELASTICA_START_HTTP: String(httpBase),
      ELASTICA_START_DATA: dataRoot,
      NO_COLOR: '1',
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    async stop(): Promise<number | null> {
      process.kill(child.pid!, 'SIGINT');
      return exited;
    },
  };
}

describe('npm start (tools/start.mjs)', () => {
  let start: ChildProcess | undefined;
  let output = '';
  let children: number[] = [];
  const dataRoot = mkdtempSync(join(tmpdir(), 'kv-start-'));

  beforeAll(() => {
    ensureBuilt();
  }, 300_000);

  afterAll(() => {
    // Whatever happened: nothing this test started outlives it (its own process group, by id).
    if (start?.pid !== undefined && start.exitCode === null && start.signalCode === null) {
      try {
        process.kill(-start.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const pid of children) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dataRoot, { recursive: true, force: true });
  });

  it("prints the dashboard's address, serves it, and SIGINT stops every node it started", async () => {
    const cluster = await freeRun(NODES);
    const httpBase = await freeRun(NODES);
    start = spawn(process.execPath, ['tools/start.mjs', '--no-build'], {
      cwd: ROOT,
      detached: true, // its own process group, so afterAll can end it and its nodes whatever happens
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ELASTICA_START_PORT: String(cluster),
        ELASTICA_START_HTTP: String(httpBase),
        ELASTICA_START_DATA: dataRoot, // never the working copy's ./data, which a developer's own `npm start` uses
        NO_COLOR: '1',
      },
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      start!.on('exit', (code, signal) => resolve({ code, signal })),
    );
    start.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    start.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const pid = start.pid!;

    const dashboard = await until(
      "start.mjs to print the dashboard's address",
      () => /dashboard will be at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)?.[1],
      30_000,
      100,
    );
    expect(dashboard).toBe(`http://127.0.0.1:${httpBase}/`);
    // Every node it started serves its HTTP port; the printed address serves the dashboard.
    for (let i = 0; i < NODES; i++) {
      await until(
        `node ${i + 1} to answer GET /cluster`,
        async () => (await http('GET', `http://127.0.0.1:${httpBase + i}/cluster`)).status === 200,
        30_000,
        100,
      );
    }
    const page = await http('GET', dashboard);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);

    children = childrenOf(pid);
    expect(children).toHaveLength(NODES);
    for (const child of children) expect(cmdline(child)).toContain('dist/apps/kv-store/main.js');

    process.kill(pid, 'SIGINT'); // to start.mjs only: it must stop its nodes itself
    // It SIGINTs them (SIGTERM would decommission each), SIGKILLs any left after 5 s, and exits once all
    // have: 20 s is only a hang guard.
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<string>((resolve) => {
      timer = setTimeout(
        () =>
          resolve(
            `still running 20 s after SIGINT; its children alive: ${children.filter(alive).join(', ') || 'none'}`,
          ),
        20_000,
      );
    });
    expect(await Promise.race([exited, hung])).toEqual({ code: 0, signal: null });
    clearTimeout(timer);
    // start.mjs exits only once every node has; none survives, and nothing answers on their ports.
    expect(children.filter(alive)).toEqual([]);
    for (let i = 0; i < NODES; i++)
      await expect(http('GET', `http://127.0.0.1:${httpBase + i}/cluster`)).rejects.toThrow();
    expect(output).toContain('Stopping every node');
  }, 60_000);
  it("keeps its nodes' data between runs, and --fresh wipes it", async () => {
    const cluster = await freeRun(NODES);
    const httpBase = await freeRun(NODES);
    const root = mkdtempSync(join(tmpdir(), 'kv-start-keep-'));
    const node = (i: number) => `http://127.0.0.1:${httpBase + i}`;
    let run: ReturnType<typeof startRun> | undefined;
    try {
      run = startRun(cluster, httpBase, root);
      await until(
        'a write through node 1 to be acknowledged',
        async () =>
          (await http('PUT', `${node(0)}/kv/kept`, 'across runs').catch(() => ({ status: 0 }))).status === 204,
        60_000,
        250,
      );
      expect(await run.stop()).toBe(0);
      run = startRun(cluster, httpBase, root);
      // Read through another node than the one written to: the key comes back from the nodes' disks.
      const again = await until(
        'the key to read back through node 2 after a restart of all three',
        async () => {
          const r = await http('GET', `${node(1)}/kv/kept`).catch(() => undefined);
          return r?.status === 200 ? r.text : undefined;
        },
        60_000,
        250,
      );
      expect(again).toBe('across runs');
      expect(await run.stop()).toBe(0);
      run = startRun(cluster, httpBase, root, ['--fresh']);
      const after = await until(
        'a fresh cluster to answer a read of the key',
        async () =>
          (await http('GET', `${node(1)}/kv/kept`).catch(() => undefined))?.status === 404 ? 404 : undefined,
        60_000,
        250,
      );
      expect(after).toBe(404);
      expect(run.output()).toContain('--fresh: wiped the data of 3 node(s)');
      expect(await run.stop()).toBe(0);
      run = undefined;
    } finally {
      if (run?.child.pid !== undefined && run.child.exitCode === null) process.kill(-run.child.pid, 'SIGKILL');
      rmSync(root, { recursive: true, force: true });
    }
  }, 240_000);
});
