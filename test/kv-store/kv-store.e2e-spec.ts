import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ensureBuilt as buildApp } from '../support/build.js';
import { freePort } from '../support/free-port.js';
import { until } from '../support/until.js';
import { launchBrowser, type Browser } from './support/browser.js';
import { http, json, mapLimit, type ClusterView } from './support/http.js';
import { missingOn } from './support/local-copies.js';
import { ARTIFACTS, KvNodeProcess as NodeProcess } from './support/node-process.js';

/**
 * The example app as users run it: real `node dist/apps/kv-store/main.js` processes on free loopback
 * ports, driven over HTTP, plus the dashboard in Debian's headless chromium. Every wait polls with a
 * generous deadline; the timings observed are written to test-artifacts/kv-store/timings.json.
 */

const timings: Record<string, number> = {};
const seconds = (fromMs: number): number => Math.round((Date.now() - fromMs) / 100) / 10;

async function nodeSpec(name: string, seeds: string[] | 'self') {
  const port = await freePort();
  const httpPort = await freePort();
  return { name, port, http: httpPort, seeds: seeds === 'self' ? [`127.0.0.1:${port}`] : seeds };
}

/** PUTs `chunks` chunks without a Content-Length; resolves with the status as soon as the node answers. */
function streamedPut(url: string, chunks: number, size: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method: 'PUT' }, (res) => {
      answered = true;
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    let sent = 0;
    const pump = (): void => {
      if (answered || req.destroyed) return;
      if (sent++ >= chunks) {
        req.end();
        return;
      }
      req.write(Buffer.alloc(size, 98), () => setImmediate(pump));
    };
    pump();
  });
}

function statusOf(view: ClusterView, id: string): string | undefined {
  return view.members.find((m) => m.id === id)?.status;
}

beforeAll(() => {
  buildApp();
}, 300_000);

afterAll(() => {
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
  if (Object.keys(timings).length > 0) console.log(`kv-store e2e timings (s): ${JSON.stringify(timings)}`);
});

describe('kv-store: one node', () => {
  let node: NodeProcess;
  let browser: Browser | undefined;

  beforeAll(async () => {
    node = new NodeProcess(await nodeSpec('single', 'self'));
    node.start();
    await until(
      'the node to serve /cluster',
      async () => (await json<ClusterView>(`${node.url}/cluster`)).members.length === 1,
      60_000,
    );
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await node?.stop();
  });

  it('answers GET /cluster in the contract shape', async () => {
    const view = await json<ClusterView>(`${node.url}/cluster`);
    expect(view.self).toBe(node.id);
    expect(view.members).toEqual([
      expect.objectContaining({
        id: node.id,
        status: 'up',
        address: expect.any(String),
        generation: expect.any(Number),
      }),
    ]);
    expect(view.members[0]).toHaveProperty('phi');
    expect(view.ring.ownership).toEqual({ [node.id]: 1 });
  });

  it('stores, reads, overwrites and deletes values, keys of any characters included', async () => {
    const key = encodeURIComponent('ключ/with slash & space');
    expect((await http('PUT', `${node.url}/kv/${key}`, 'first')).status).toBe(204);
    expect((await http('PUT', `${node.url}/kv/${key}`, 'second')).status).toBe(204);
    const read = await http('GET', `${node.url}/kv/${key}`);
    expect(read).toMatchObject({ status: 200, text: 'second' });
    expect(read.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await http('PUT', `${node.url}/kv/empty`, '')).status).toBe(204);
    expect(await http('GET', `${node.url}/kv/empty`)).toMatchObject({ status: 200, text: '' });
    expect((await http('DELETE', `${node.url}/kv/${key}`)).status).toBe(204);
    expect((await http('GET', `${node.url}/kv/${key}`)).status).toBe(404);
    expect((await http('GET', `${node.url}/kv/never-written`)).status).toBe(404);
  });

  it('answers bad requests with a 4xx and a message, and keeps serving', async () => {
    const cases: [string, Promise<{ status: number; text: string; headers: Headers }>, number, RegExp][] = [
      ['a key too long', http('PUT', `${node.url}/kv/${'k'.repeat(300)}`, 'x'), 400, /300 bytes, at most 256/],
      [
        'a body too large (Content-Length)',
        http('PUT', `${node.url}/kv/big`, Buffer.alloc(300 * 1024, 97)),
        413,
        /larger than 262144 bytes/,
      ],
      ['a wrong method', http('POST', `${node.url}/kv/k`, 'x'), 405, /POST is not supported on \/kv\/:key/],
      ['PATCH', http('PATCH', `${node.url}/kv/k`, 'x'), 405, /use GET, PUT, DELETE/],
      ['a broken percent-encoding', http('GET', `${node.url}/kv/%E0%A4%A`), 400, /decode/],
      ['no key', http('GET', `${node.url}/kv`), 404, /a key is required/],
      ['GET on /admin/leave', http('GET', `${node.url}/admin/leave`), 405, /use POST/],
      ['a bad events cursor', http('GET', `${node.url}/cluster/events?since=abc`), 400, /numeric/],
    ];
    for (const [what, request, status, message] of cases) {
      const reply = await request;
      expect({ what, status: reply.status }).toEqual({ what, status });
      expect(JSON.parse(reply.text).message).toMatch(message);
    }
    // A chunked body with no Content-Length is cut off while streaming (the node answers, then hangs up).
    expect(await streamedPut(`${node.url}/kv/streamed`, 40, 16 * 1024)).toBe(413);
    expect(node.running).toBe(true);
    expect((await http('PUT', `${node.url}/kv/after`, 'still here')).status).toBe(204);
    expect((await http('GET', `${node.url}/kv/after`)).text).toBe('still here');
  });

  it('refuses to decommission the last node holding data (nobody to hand it to)', async () => {
    const reply = await http('POST', `${node.url}/admin/leave`);
    expect(reply.status).toBe(409);
    expect(JSON.parse(reply.text).message).toMatch(/no other node is up/);
    expect(node.running).toBe(true);
  });

  it('serves the dashboard, which shows the member live in a real browser', async () => {
    const page = await http('GET', `${node.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    browser = await launchBrowser();
    const tab = await browser.context.newPage();
    const errors: string[] = [];
    tab.on('pageerror', (error) => errors.push(error.message));
    await tab.goto(`${node.url}/`);
    await tab.waitForSelector(`tr[data-member-id="${node.id}"][data-status="up"]`, { timeout: 30_000 });
    await tab.waitForSelector('#conn[data-live="true"]', { timeout: 10_000 });
    expect(await tab.locator('#legend li').count()).toBe(1);
    expect(errors).toEqual([]);
  }, 60_000);
});

/**
 * Five nodes, two of them seeds. The steps build on each other, in order: join, writes, a SIGKILL and
 * the restart, a graceful leave, a sixth node joining the loaded cluster.
 */
describe('kv-store: a five-node cluster of real processes', () => {
  const nodes = new Map<string, NodeProcess>();
  const written = new Map<string, string>(); // every acknowledged write: key -> value
  let browser: Browser | undefined;
  let tab: Page | undefined;
  const node = (name: string): NodeProcess => nodes.get(name)!;
  const live = (): NodeProcess[] => [...nodes.values()].filter((n) => n.running);

  async function view(n: NodeProcess): Promise<ClusterView> {
    return json<ClusterView>(`${n.url}/cluster`);
  }

  /** Every running node sees each of `ids` with `status` (and, for up, owning a share of the ring unless told not to). */
  async function allSee(ids: string[], status: string, owning = status === 'up'): Promise<boolean> {
    for (const n of live()) {
      const v = await view(n);
      for (const id of ids) {
        if (statusOf(v, id) !== status) return false;
        if (owning && !(v.ring.ownership[id] > 0)) return false;
      }
    }
    return true;
  }

  async function put(via: NodeProcess, key: string, value: string): Promise<number> {
    const reply = await http('PUT', `${via.url}/kv/${encodeURIComponent(key)}`, value);
    if (reply.status === 204) written.set(key, value);
    return reply.status;
  }

  /** Reads every acknowledged key through the running nodes in turn; returns the keys not read back. */
  async function unreadable(): Promise<string[]> {
    const readers = live();
    const keys = [...written.keys()];
    const bad = await mapLimit(keys, 16, async (key, i) => {
      const reply = await http('GET', `${readers[i % readers.length].url}/kv/${encodeURIComponent(key)}`);
      return reply.status === 200 && reply.text === written.get(key) ? undefined : `${key} (${reply.status})`;
    });
    return bad.filter((k): k is string => k !== undefined);
  }

  beforeAll(async () => {
    const specs = [await nodeSpec('n1', []), await nodeSpec('n2', [])];
    const seeds = specs.map((s) => `127.0.0.1:${s.port}`);
    for (const s of specs) s.seeds = seeds;
    for (const name of ['n3', 'n4', 'n5']) specs.push(await nodeSpec(name, seeds));
    for (const spec of specs) nodes.set(spec.name, new NodeProcess(spec));
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([...nodes.values()].map((n) => n.stop()));
  });

  it('five nodes join through two seeds and agree on the ring', async () => {
    const t0 = Date.now();
    for (const n of nodes.values()) n.start();
    const ids = [...nodes.values()].map((n) => n.id);
    await until('every node to see all five up', () => allSee(ids, 'up', false), 90_000, 100);
    timings.join_5_members_up_s = seconds(t0);
    await until('every node to see all five owning ranges', () => allSee(ids, 'up'), 90_000);
    timings.join_5_ring_ready_s = seconds(t0);
    const owners = await Promise.all(
      live().map(async (n) =>
        Object.keys((await view(n)).ring.ownership)
          .sort()
          .join(),
      ),
    );
    expect(new Set(owners).size).toBe(1);
  }, 120_000);

  it('takes writes through every node and serves every key from every node', async () => {
    const all = [...nodes.values()];
    const statuses = await mapLimit(
      Array.from({ length: 200 }, (_, i) => i),
      10,
      (i) => put(all[i % 5], `key-${i}`, `value ${i} ${'x'.repeat(i % 50)}`),
    );
    expect(statuses.filter((s) => s !== 204)).toEqual([]);
    for (const key of ['key-0', 'key-77', 'key-199']) {
      for (const n of all) expect((await http('GET', `${n.url}/kv/${key}`)).text).toBe(written.get(key));
    }
    expect(await unreadable()).toEqual([]);
  }, 120_000);

  it('the dashboard in a real browser shows every member up', async () => {
    browser = await launchBrowser();
    tab = await browser.context.newPage();
    await tab.goto(`${node('n1').url}/`);
    for (const n of nodes.values())
      await tab.waitForSelector(`tr[data-member-id="${n.id}"][data-status="up"]`, { timeout: 30_000 });
    expect(await tab.locator('tr[data-member-id]').count()).toBe(5);
    expect(await tab.locator('#legend li').count()).toBe(5);
  }, 60_000);

  it('a node killed with SIGKILL: acknowledged writes stay readable, the others mark it down', async () => {
    const victim = node('n5');
    const survivors = ['n1', 'n2', 'n3', 'n4'].map(node);
    // Writes keep coming while the node dies; only acknowledged ones must survive.
    let writing = true;
    let attempted = 0;
    const writer = (async () => {
      // About 40 writes a second: enough to span the kill, few enough to check each afterwards.
      for (let i = 0; writing && i < 1000; i++) {
        attempted++;
        await put(survivors[i % 4], `during-kill-${i}`, `written while n5 died ${i}`).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    await until('a few writes before the kill', async () => attempted > 20, 30_000, 50);
    const tKill = Date.now();
    victim.kill('SIGKILL');
    await victim.exited();
    const firstDown = await until(
      'a survivor to mark n5 down',
      async () => {
        for (const n of survivors) if (statusOf(await view(n), victim.id) === 'down') return Date.now();
        return undefined;
      },
      60_000,
      100,
    );
    timings.kill_detect_first_s = Math.round((firstDown - tKill) / 100) / 10;
    await until('every survivor to mark n5 down', () => allSee([victim.id], 'down'), 60_000, 100);
    timings.kill_detect_all_s = seconds(tKill);
    await tab!.waitForSelector(`tr[data-member-id="${victim.id}"][data-status="down"]`, { timeout: 30_000 });
    await tab!.waitForTimeout(1500); // let the phi chart draw a little past the conviction for the picture
    await tab!.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    writing = false;
    await writer;
    expect([...written.keys()].filter((k) => k.startsWith('during-kill-')).length).toBeGreaterThan(10);
    expect(await unreadable()).toEqual([]);
  }, 120_000);

  it('the killed node restarts, rejoins, and catches up on what it missed', async () => {
    const victim = node('n5');
    const before = (await view(node('n1'))).members.find((m) => m.id === victim.id)!.generation;
    const tRestart = Date.now();
    victim.start();
    await until(
      'every node to see n5 up again, with a new generation',
      async () => {
        if (!(await allSee([victim.id], 'up'))) return false;
        return (await view(node('n1'))).members.find((m) => m.id === victim.id)!.generation > before;
      },
      90_000,
    );
    timings.rejoin_s = seconds(tRestart);
    const caughtUp = await until(
      'n5 to hold every acknowledged key it replicates',
      async () => {
        const { replicated, missing } = await missingOn(victim, written);
        return replicated > 0 && missing.length === 0 ? replicated : undefined;
      },
      90_000,
      500,
    );
    timings.catch_up_s = seconds(tRestart);
    expect(caughtUp).toBeGreaterThan(0);
    await tab!.waitForSelector(`tr[data-member-id="${victim.id}"][data-status="up"]`, { timeout: 30_000 });
  }, 180_000);

  it('a graceful leave hands the data over, leaves, exits, and nothing is lost', async () => {
    const leaver = node('n4');
    const tLeave = Date.now();
    const reply = await http('POST', `${leaver.url}/admin/leave`);
    expect(reply.status).toBe(202);
    const exit = await until('n4 to exit', async () => (leaver.running ? undefined : leaver.exited()), 90_000);
    expect(exit.code).toBe(0);
    timings.leave_exit_s = seconds(tLeave);
    await until(
      'the others to see n4 gone',
      async () => {
        for (const n of live()) {
          const status = statusOf(await view(n), leaver.id);
          if (status !== undefined && status !== 'left') return false;
        }
        return true;
      },
      60_000,
    );
    // Before any read can repair anything: every key has copies on at least two of the remaining nodes.
    const stay = live();
    const thin = await mapLimit([...written], 16, async ([key, value]) => {
      let copies = 0;
      for (const n of stay) {
        const local = await http('GET', `${n.url}/admin/local/${encodeURIComponent(key)}`);
        if (local.status === 200 && JSON.parse(local.text).value === value) copies++;
      }
      return copies >= 2 ? undefined : `${key} (${copies} copies)`;
    });
    expect(thin.filter(Boolean)).toEqual([]);
    expect(await unreadable()).toEqual([]);
  }, 180_000);

  it('a node joining the loaded cluster receives its ranges', async () => {
    const seeds = [node('n1').id, node('n2').id];
    const joiner = new NodeProcess(await nodeSpec('n6', seeds));
    nodes.set('n6', joiner);
    const tJoin = Date.now();
    joiner.start();
    await until('every node to see n6 up', () => allSee([joiner.id], 'up', false), 90_000, 100);
    timings.join_loaded_member_up_s = seconds(tJoin);
    await until('every node to see n6 owning ranges', () => allSee([joiner.id], 'up'), 90_000);
    timings.join_loaded_ring_ready_s = seconds(tJoin);
    const received = await until(
      'n6 to hold every key it replicates',
      async () => {
        const { replicated, missing } = await missingOn(joiner, written);
        return replicated > 0 && missing.length === 0 ? replicated : undefined;
      },
      90_000,
      500,
    );
    timings.ranges_received_s = seconds(tJoin);
    timings.keys_received_by_joiner = received;
    expect(received).toBeGreaterThan(written.size / 10);
    expect(await unreadable()).toEqual([]);
  }, 180_000);
});
