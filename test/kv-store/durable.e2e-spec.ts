import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from '../support/build.js';
import { freePort } from '../support/free-port.js';
import { until } from '../support/until.js';
import { http, json, mapLimit, type ClusterView } from './support/http.js';
import { KvNodeProcess } from './support/node-process.js';

// A node's data directory under bad conditions (issue 17), one lone node (a quorum of its own):
// a full disk (a 4 MiB tmpfs, so root only) fails writes with 507 and loses nothing acknowledged;
// a directory of another cluster or node id, or with a damaged record, is refused at start-up with
// a message saying why (exit code 3), and nothing is served from it.
const canMount = process.platform === 'linux' && process.getuid?.() === 0;
const reason = 'needs root to mount a tmpfs (run as root, as CI does)';
if (!canMount && !process.env.CI) process.stdout.write(`kv-store durable suite skipped: ${reason}\n`);
const describeRoot = canMount ? describe : process.env.CI ? describe : describe.skip;

describeRoot('kv-store: a full disk, and data directories it must refuse', () => {
  let mount: string;
  let node: KvNodeProcess | undefined;
  const acked = new Map<string, string>();

  beforeAll(async () => {
    if (!canMount) throw new Error(`this suite must run in CI but cannot: ${reason}`);
    ensureBuilt();
    mount = mkdtempSync(join(tmpdir(), 'kv-full-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]);
    const port = await freePort();
    node = new KvNodeProcess({
      name: 'full-disk',
      port,
      http: await freePort(),
      seeds: [`127.0.0.1:${port}`],
      dataDir: join(mount, 'node'),
    });
    node.start();
    await until(
      'the node to own the ring',
      async () => {
        const view = await json<ClusterView & { ring: { ready: boolean } }>(`${node!.url}/cluster`);
        return view.ring.ready;
      },
      60_000,
    );
  }, 300_000);

  afterAll(async () => {
    await node?.stop();
    if (mount) {
      execFileSync('umount', [mount]);
      rmSync(mount, { recursive: true, force: true });
    }
  });

  it('a full disk fails writes with 507 and a message, and loses nothing acknowledged (across a restart too)', async () => {
    const value = 'v'.repeat(4096);
    let refusal: { status: number; text: string } | undefined;
    for (let k = 0; refusal === undefined && k < 5000; k += 8) {
      const replies = await mapLimit([0, 1, 2, 3, 4, 5, 6, 7], 8, async (j) => {
        const key = `fill-${k + j}`;
        const reply = await http('PUT', `${node!.url}/kv/${key}`, `${key}:${value}`);
        if (reply.status === 204) acked.set(key, `${key}:${value}`);
        return reply;
      });
      refusal = replies.find((r) => r.status !== 204);
    }
    expect(refusal?.status).toBe(507);
    expect((JSON.parse(refusal!.text) as { message: string }).message).toMatch(
      /disk is full: \d+ bytes free in .*, at least \d+ are kept free/,
    );
    expect(acked.size).toBeGreaterThan(100);
    // It keeps serving: reads, and writes again once there is room (a delete frees nothing at once: a tombstone).
    const readAll = async () =>
      (
        await mapLimit([...acked], 8, async ([key, v]) => {
          const reply = await http('GET', `${node!.url}/kv/${key}`);
          return reply.status === 200 && reply.text === v ? 0 : 1;
        })
      ).reduce((a: number, b: number) => a + b, 0);
    expect(await readAll()).toBe(0);
    await node!.stop();
    node!.start();
    await until(
      'the node to serve again',
      async () => (await http('GET', `${node!.url}/cluster`)).status === 200,
      60_000,
    );
    expect(await readAll()).toBe(0);
  }, 120_000);

  it("refuses another cluster's or another node id's data directory, saying why", async () => {
    await node!.stop();
    const dir = join(mount, 'node');
    const run = (args: string[]): { code: number | null; output: string } => {
      try {
        const out = execFileSync(
          process.execPath,
          ['dist/apps/kv-store/main.js', '--port', '1', '--data-dir', dir, ...args],
          {
            stdio: ['ignore', 'pipe', 'pipe'],
            timeout: 30_000,
          },
        );
        return { code: 0, output: out.toString() };
      } catch (error) {
        const e = error as { status: number | null; stderr: Buffer };
        return { code: e.status, output: e.stderr.toString() };
      }
    };
    const other = run(['--cluster', 'another']);
    expect(other.code).toBe(3);
    expect(other.output).toMatch(/refusing to start: .* holds the data of cluster "kv-store", not "another"/);
    const otherId = run(['--node-id', 'someone-else']);
    expect(otherId.code).toBe(3);
    expect(otherId.output).toMatch(/holds the data of node "127\.0\.0\.1:\d+", not "someone-else"/);
  }, 60_000);

  it('refuses a data file with a damaged record, and one truncated, rather than serve what is left', async () => {
    const dir = join(mount, 'node');
    const copy = mkdtempSync(join(tmpdir(), 'kv-damaged-'));
    try {
      const file = join(copy, 'data.mdb');
      for (const name of ['data.mdb', 'elastica-node.json'])
        writeFileSync(join(copy, name), readFileSync(join(dir, name)));
      const bytes = readFileSync(file);
      const at = bytes.indexOf(`:${'v'.repeat(64)}`);
      expect(at).toBeGreaterThan(0);
      bytes[at + 1000] ^= 0x04; // inside a stored value
      writeFileSync(file, bytes);
      const port = await freePort();
      const damaged = new KvNodeProcess({
        name: 'damaged',
        port,
        http: await freePort(),
        seeds: [`127.0.0.1:${port}`],
        dataDir: copy,
      });
      damaged.start();
      const exit = await damaged.exited();
      expect(exit?.code).toBe(3);
      await damaged.stop();
      const log = readFileSync(join('test-artifacts', 'kv-store', 'damaged.log'), 'utf8');
      expect(log).toMatch(
        /refusing to start: the data in .* is damaged \(.*(fails its checksum|not readable|does not hold a version).*\); this node refuses to start rather than serve values it cannot vouch for/,
      );

      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
      damaged.start();
      expect((await damaged.exited())?.code).toBe(3);
      await damaged.stop();
      expect(readFileSync(join('test-artifacts', 'kv-store', 'damaged.log'), 'utf8')).toMatch(/the file was truncated/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 60_000);
});
