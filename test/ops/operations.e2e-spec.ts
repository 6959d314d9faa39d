import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdminStatus } from 'elastica/testing';
import { ensureBuilt } from '../support/build.js';
import { freePort } from '../support/free-port.js';
import { findCommand, itNeeding } from '../support/system-packages.js';
import { until } from '../support/until.js';
import { http, mapLimit } from '../kv-store/support/http.js';
import { missingOn } from '../kv-store/support/local-copies.js';
import { KvNodeProcess } from '../kv-store/support/node-process.js';

/**
 * Operating the example app as an operator would: the terminus probes, /metrics scraped over HTTP and
 * checked by promtool, and the `elastica` CLI (the library's bin) against a live four-node cluster,
 * down to forgetting a killed node and the app re-replicating what it held. One cluster for the file.
 */

const CLI = 'libs/elastica/dist/cli/main.js';
const CLUSTER = 'kv-store'; // the example app's cluster name
const KEYS = 60;

/** What `elastica status --json` prints: the library's own type of the answer. */
type StatusJson = AdminStatus;

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a user would (async: the nodes it talks to run in this process's event loop's children). */
function cli(...args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function status(node: KvNodeProcess): Promise<StatusJson> {
  const run = await cli('status', '--node', node.id, '--cluster', CLUSTER, '--json');
  if (run.code !== 0) throw new Error(`elastica status exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as StatusJson;
}

function metric(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('operations: probes, metrics and the elastica CLI on a live cluster', () => {
  const nodes: KvNodeProcess[] = [];
  const written = new Map<string, string>();
  let scratch: string;

  beforeAll(async () => {
    ensureBuilt();
    scratch = mkdtempSync(join(tmpdir(), 'elastica-ops-'));
    const ports = await Promise.all(Array.from({ length: 8 }, () => freePort()));
    const seed = `127.0.0.1:${ports[0]}`;
    for (let i = 0; i < 4; i++)
      nodes.push(new KvNodeProcess({ name: `ops-${i}`, port: ports[2 * i], http: ports[2 * i + 1], seeds: [seed] }));
  }, 300_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(scratch, { recursive: true, force: true });
  });

  it('the probes answer 503 before a node joins and 200 once it has joined and is ready', async () => {
    const [a, b, c, d] = nodes;
    // b's only seed (a) is not running yet: b cannot join.
    b.start();
    const before = await until('b serves its probes', async () => {
      const live = await http('GET', `${b.url}/health/live`);
      return live.status === 503 ? live : undefined;
    });
    expect(JSON.parse(before.text)).toMatchObject({ status: 'error' });
    expect((await http('GET', `${b.url}/health/ready`)).status).toBe(503);
    a.start();
    c.start();
    d.start();
    for (const n of nodes)
      for (const probe of ['live', 'ready', 'stop'])
        await until(
          `${n.node.name} /health/${probe} 200`,
          async () => (await http('GET', `${n.url}/health/${probe}`)).status === 200,
          60_000,
        );
    await mapLimit(
      Array.from({ length: KEYS }, (_, i) => i),
      8,
      async (i) => {
        const key = `ops-${i}`;
        await until(
          `PUT ${key}`,
          async () => (await http('PUT', `${a.url}/kv/${key}`, `value-${i}`)).status === 204,
          30_000,
        );
        written.set(key, `value-${i}`);
      },
    );
  }, 120_000);

  itNeeding(
    'promtool',
    'serves Prometheus metrics that promtool accepts, on every node',
    async () => {
      for (const n of nodes) {
        const reply = await http('GET', `${n.url}/metrics`);
        expect(reply.status).toBe(200);
        expect(reply.headers.get('content-type')).toContain('text/plain');
        expect(metric(reply.text, 'elastica_members', '{status="up"}')).toBe(4);
        expect(metric(reply.text, 'elastica_gossip_messages_total', '{direction="in"}')).toBeGreaterThan(0);
        const file = join(scratch, `${n.node.name}.prom`);
        writeFileSync(file, reply.text);
        const check = spawnSync(findCommand('promtool')!, ['check', 'metrics'], {
          input: reply.text,
          encoding: 'utf8',
        });
        expect({ code: check.status, out: `${check.stdout}${check.stderr}` }).toEqual({ code: 0, out: '' });
      }
    },
    60_000,
  );

  it('elastica status: one line per member, --json parsed, non-zero exit when the node is unreachable or refuses', async () => {
    const [a] = nodes;
    const view = await status(a);
    expect(view.self).toBe(a.id);
    expect(view.members.map((m) => m.id).sort()).toEqual(nodes.map((n) => n.id).sort());
    for (const m of view.members) {
      expect(m.status).toBe('up');
      expect(m.ownership).toBeGreaterThan(0);
      expect(m.version).toMatch(/^\d+\.\d+\.\d+/);
    }
    const text = await cli('status', '--node', a.id, '--cluster', CLUSTER);
    expect(text.code).toBe(0);
    for (const n of nodes) expect(text.stdout).toMatch(new RegExp(`^UN\\s+${n.id.replace(/\./g, '\\.')}\\s`, 'm'));

    const ring = await cli('ring', '--node', a.id, '--cluster', CLUSTER, '--json');
    expect(ring.code).toBe(0);
    expect(Object.keys((JSON.parse(ring.stdout) as { ownership: object }).ownership)).toHaveLength(4);

    const nobody = await cli('status', '--node', `127.0.0.1:${await freePort()}`, '--cluster', CLUSTER);
    expect(nobody.code).not.toBe(0);
    expect(nobody.stderr).toMatch(/cannot reach|ECONNREFUSED/);
    const stranger = await cli('status', '--node', a.id, '--cluster', 'another');
    expect(stranger.code).not.toBe(0);
    expect(stranger.stderr).toContain('wrong cluster');
    const upNode = await cli('forget', nodes[1].id, '--node', a.id, '--cluster', CLUSTER);
    expect(upNode.code).not.toBe(0);
    expect(upNode.stderr).toContain('not down');
  }, 60_000);

  it('forget on a killed node through the CLI: every node drops it within seconds, the counts follow, and every key has three copies again', async () => {
    const [a, b, c, d] = nodes;
    const live = [a, b, c];
    d.kill('SIGKILL');
    await until(
      'a judges d down',
      async () => {
        const text = (await http('GET', `${a.url}/metrics`)).text;
        return (
          metric(text, 'elastica_members', '{status="down"}') === 1 &&
          metric(text, 'elastica_members', '{status="up"}') === 3
        );
      },
      60_000,
    );

    // Watch the "safe to stop" probe while the ranges d held move. Not a race: each node reports the
    // handoff from the ring change until a placement round finds nothing to move, which is the periodic
    // round after the one that moved the copies (syncIntervalMs, 5 s later), while this polls every 50 ms.
    let unsafeSeen = false;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const n of live)
          if ((await http('GET', `${n.url}/health/stop`).catch(() => undefined))?.status === 503) unsafeSeen = true;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const forget = await cli('forget', d.id, '--node', a.id, '--cluster', CLUSTER);
    expect(forget.code).toBe(0);
    const started = Date.now();
    for (const n of live)
      await until(`${n.node.name} drops d`, async () => (await status(n)).members.every((m) => m.id !== d.id), 30_000);
    const droppedInS = (Date.now() - started) / 1000;
    for (const n of [b, c]) {
      const text = (await http('GET', `${n.url}/metrics`)).text;
      expect(metric(text, 'elastica_members_forgotten_total')).toBe(1);
      expect(metric(text, 'elastica_members', '{status="down"}')).toBe(0);
    }
    await until(
      'every key has three copies on the three live nodes',
      async () => {
        let copies = 0;
        for (const n of live) {
          const { replicated, missing } = await missingOn(n, written);
          if (missing.length > 0) return false;
          copies += replicated;
        }
        return copies === 3 * KEYS;
      },
      60_000,
      500,
    );
    for (const n of live)
      await until(
        `${n.node.name} safe to stop again`,
        async () => (await http('GET', `${n.url}/health/stop`)).status === 200,
        60_000,
      );
    watching = false;
    await watcher;
    expect(unsafeSeen).toBe(true);
    console.log(`forget: every live node dropped the killed node within ${droppedInS.toFixed(1)} s`);
  }, 180_000);

  it('elastica leave: the node hands its data over, leaves and exits 0; the others see it left', async () => {
    const [a, b, c] = nodes;
    const leave = await cli('leave', '--node', c.id, '--cluster', CLUSTER);
    expect(leave.code).toBe(0);
    expect(leave.stdout).toContain('handing data over');
    expect(await c.exited()).toMatchObject({ code: 0 });
    for (const n of [a, b])
      await until(
        `${n.node.name} sees c left or gone`,
        async () => {
          const m = (await status(n)).members.find((x) => x.id === c.id);
          return m === undefined || m.status === 'left';
        },
        30_000,
      );
    const { missing } = await missingOn(a, written);
    expect(missing).toEqual([]);
  }, 90_000);
});
