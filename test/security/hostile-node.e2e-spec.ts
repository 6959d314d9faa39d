import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { firstValueFrom } from 'rxjs';
import { encodeAuth } from '../../libs/elastica/src/transport/frames.js';
import { stream } from '../../libs/elastica/src/transport/testing/hostile-input.js';
import { TestHandlers } from '../transport/handlers.js';
import { startNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';
import { RawPeer } from '../transport/raw-peer.js';
import { RecordingLogger } from './recording-logger.js';

/**
 * A real node (Nest app, ElasticaModule, loopback port) under attack from raw sockets, while a member
 * keeps calling it. Each attack asserts: the member's calls all succeed throughout; each hostile
 * connection is refused, counted under its reason and logged exactly once; no peer entry is created
 * for a stranger; the process's RSS stays under a generous ceiling.
 */

const SECRET = 'correct horse battery staple';
const logs = new RecordingLogger();
let target: TestNode;
let member: TestNode;
let small: TestNode;
let rssBaseline = 0;
let rssPeak = 0;
const rssTimer = setInterval(() => {
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
}, 25);
rssTimer.unref();

/** The member calls the target back to back until stopped; every call must succeed. */
function keepCalling(from: TestNode, to: string) {
  const state = { ok: 0, failed: [] as unknown[], stopped: false };
  const loop = (async () => {
    while (!state.stopped) {
      try {
        await firstValueFrom(from.client.send(to, 'echo', state.ok));
        state.ok++;
      } catch (error) {
        state.failed.push(error);
      }
    }
  })();
  return Object.assign(state, {
    stop: async () => {
      state.stopped = true;
      await loop;
    },
  });
}

/** Log lines "refused connection with [<claimed id> at ]127.0.0.1:<port> (<reason>)", counted per port. */
/**
 * Refusal log lines for `reason` logged since line `from`, counted by the client port they name. A port
 * can be reused by a later connection of the same flood, so callers check the total against the number
 * of refused connections (once each, never once per byte) and that every connection's port appears.
 */
function refusalLinesByPort(reason: string, from = 0): Map<number, number> {
  const re = new RegExp(`refused connection with (?:.* at )?127\\.0\\.0\\.1:(\\d+) \\(${reason}\\)`);
  const counts = new Map<number, number>();
  for (const line of logs.lines.slice(from)) {
    const m = re.exec(line);
    if (m) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
  }
  return counts;
}

function sum(counts: Map<number, number>): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}

async function inWaves<T>(n: number, wave: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += wave)
    out.push(...(await Promise.all(Array.from({ length: Math.min(wave, n - i) }, (_, k) => make(i + k)))));
  return out;
}

/** A raw socket's local port, kept from when it opened (a closed socket no longer tells it). */
const portOf = new Map<RawPeer, number>();
async function open(port: number): Promise<RawPeer> {
  const raw = await RawPeer.open(port);
  portOf.set(raw, raw.socket.localPort!);
  return raw;
}

const helloFrom = (fields: object) => ({
  cluster: 'prod',
  nodeId: 'intruder',
  generation: Date.now(),
  advertise: '127.0.0.1:9',
  nonce: 'bm9uY2U=',
  auth: true,
  ...fields,
});

beforeAll(async () => {
  // every node of this file logs into the same recorder (Nest's logger is process-wide)
  member = await startNode('member', { cluster: 'prod', secret: SECRET }, [TestHandlers], { logger: logs });
  target = await startNode(
    'target',
    { cluster: 'prod', secret: SECRET, rpc: { handshakeTimeoutMs: 1000 } },
    [TestHandlers],
    { logger: logs },
  );
  small = await startNode('small', { rpc: { maxPendingHandshakes: 20, handshakeTimeoutMs: 30_000 } }, [TestHandlers], {
    logger: logs,
  });
  await member.transport.connect(target.address);
  rssBaseline = process.memoryUsage().rss;
});

afterAll(async () => {
  clearInterval(rssTimer);
  await Promise.all([member, target, small].filter(Boolean).map((n) => n.close()));
});

describe('a node under hostile connections', () => {
  it('closes 1,000 connections that never speak, each at the handshake timeout, counted and logged once, while serving its member', async () => {
    const before = target.transport.stats().refused.handshake_timeout;
    const calls = keepCalling(member, 'target');
    const logFrom = logs.lines.length;
    const raws = await inWaves(1000, 100, () => open(target.port));
    await until('every silent connection closed', () => raws.every((r) => r.closed), 20_000, 50);
    await until('a call of the member to succeed', () => calls.ok > 0, 10_000, 20);
    await calls.stop();

    expect(target.transport.stats().refused.handshake_timeout - before).toBe(1000);
    for (const raw of raws) expect(raw.frames).toEqual([expect.objectContaining({ reason: 'handshake_timeout' })]);
    const lines = refusalLinesByPort('handshake_timeout', logFrom);
    expect(sum(lines)).toBe(1000);
    for (const raw of raws) expect(lines.get(portOf.get(raw)!)).toBeGreaterThanOrEqual(1);
    expect(calls.failed).toEqual([]);
    // no stranger became a peer of the target: it knows the member only
    expect(target.transport.stats().peers.map((p) => p.nodeId)).toEqual(['member']);
  });

  it('refuses a flood of bogus handshakes, each for its reason, without displacing the member it names', async () => {
    const stats0 = target.transport.stats().refused;
    const memberConn = target.transport.connections()[0];
    const calls = keepCalling(member, 'target');
    const kinds: [string, (raw: RawPeer) => void][] = [
      [
        'secret',
        (r) => {
          r.hello(1, helloFrom({}));
          r.write(encodeAuth(randomBytes(32)));
        },
      ], // wrong secret
      ['secret', (r) => r.hello(1, helloFrom({ auth: false }))], // no secret
      ['cluster', (r) => r.hello(1, helloFrom({ cluster: 'other' }))],
      ['protocol', (r) => r.hello(7, helloFrom({}))],
      ['bad_frame', (r) => r.write(Buffer.from([0, 0, 0, 5, 99, 1, 2, 3, 4]))],
      ['bad_frame', (r) => r.hello(1, helloFrom({ advertise: '$(reboot)' }))],
      // 20 KiB is far below rpc.maxFrameBytes, but a stranger gets the handshake limit (16 KiB)
      ['oversized', (r) => r.write(Buffer.from([0, 0, 0x50, 0]))],
      // claims to be the member, restarted: before it proves the secret, nothing may change
      [
        'secret',
        (r) => {
          r.hello(1, helloFrom({ nodeId: 'member', advertise: member.address }));
          r.write(encodeAuth(randomBytes(32)));
        },
      ],
    ];
    const N = 1600;
    const logFrom = logs.lines.length;
    const raws = await inWaves(N, 100, async (i) => {
      const raw = await open(target.port);
      kinds[i % kinds.length][1](raw);
      return raw;
    });
    await until('every connection closed', () => raws.every((r) => r.closed), 20_000, 50);
    await calls.stop();

    const stats1 = target.transport.stats().refused;
    const expected: Record<string, number> = {};
    for (let i = 0; i < N; i++) expected[kinds[i % kinds.length][0]] = (expected[kinds[i % kinds.length][0]] ?? 0) + 1;
    for (const [reason, n] of Object.entries(expected)) {
      expect([reason, stats1[reason as keyof typeof stats1] - stats0[reason as keyof typeof stats0]]).toEqual([
        reason,
        n,
      ]);
      const lines = refusalLinesByPort(reason, logFrom);
      expect([reason, sum(lines)]).toEqual([reason, n]);
      raws.forEach((raw, i) => {
        if (kinds[i % kinds.length][0] === reason) expect(lines.get(portOf.get(raw)!)).toBeGreaterThanOrEqual(1);
      });
    }
    expect(calls.failed).toEqual([]);
    expect(calls.ok).toBeGreaterThan(0);
    // the member's connection is the very same socket: no impostor HELLO replaced it
    expect(target.transport.connections()).toEqual([memberConn]);
    expect(target.transport.stats().peers.map((p) => p.nodeId)).toEqual(['member']);
  });

  it('logs and counts a refusal once, not once per byte, when garbage arrives a byte at a time', async () => {
    const before = target.transport.stats().refused.oversized;
    const logFrom = logs.lines.length;
    const raw = await open(target.port);
    const garbage = Buffer.from('GET / HTTP/1.1\r\nHost: example\r\n\r\n');
    for (const byte of garbage) {
      if (raw.closed) break;
      raw.write(Buffer.from([byte]));
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until('the byte-trickling connection closed', () => raw.closed, 10_000, 20);
    expect(target.transport.stats().refused.oversized).toBe(before + 1);
    expect(refusalLinesByPort('oversized', logFrom).get(portOf.get(raw)!)).toBe(1);
  });

  it('survives random streams over real sockets (fuzz, 300 connections): each ends with one counted reason', async () => {
    const s0 = target.transport.stats();
    const calls = keepCalling(member, 'target');
    const samples = fc.sample(stream, { numRuns: 300, seed: 7 });
    const raws = await inWaves(samples.length, 50, async (i) => {
      const raw = await open(target.port);
      for (const chunk of samples[i]) raw.write(chunk);
      return raw;
    });
    await until('every fuzzed connection closed', () => raws.every((r) => r.closed), 20_000, 50);
    await calls.stop();
    const s1 = target.transport.stats();
    const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
    // every connection ended by a refusal of ours or (when the fuzz sent a REFUSE) by the stranger's own
    expect(sum(s1.refused) - sum(s0.refused) + sum(s1.refusedByPeer) - sum(s0.refusedByPeer)).toBe(300);
    expect(calls.failed).toEqual([]);
    expect(target.transport.connections().map((c) => c.nodeId)).toEqual(['member']);
  });

  it('bounds connections in handshake: past rpc.maxPendingHandshakes the oldest stranger goes, and a real peer still gets in', async () => {
    const raws: RawPeer[] = [];
    for (let i = 0; i < 60; i++) {
      raws.push(await open(small.port));
      // one at a time, so "oldest" is well defined: wait until the node holds this one
      await until(
        'the node to hold this stranger (the oldest past the bound refused)',
        () => small.transport.stats().refused.overloaded >= Math.max(0, i + 1 - 20),
        10_000,
        20,
      );
    }
    expect(small.transport.stats().refused.overloaded).toBe(40);
    await until('the 40 oldest strangers closed', () => raws.slice(0, 40).every((r) => r.closed), 10_000, 20);
    for (const raw of raws.slice(0, 40))
      expect(raw.frames).toEqual([expect.objectContaining({ reason: 'overloaded' })]);
    expect(raws.slice(40).some((r) => r.closed)).toBe(false);
    // a peer dialling now completes its handshake in a round trip: the flood cannot lock it out
    const peer = await startNode('latecomer', {}, [TestHandlers], { logger: logs });
    expect(await peer.transport.connect(small.address)).toBe('small');
    expect(await firstValueFrom(peer.client.send('small', 'echo', 'in'))).toEqual({
      data: 'in',
      sender: 'latecomer',
      pattern: 'echo',
    });
    for (const raw of raws) raw.destroy();
    await peer.close();
  });

  it('kept its memory bounded through all of it', () => {
    // generous: the attackers' 1,000 sockets live in this same process
    if (process.env.ELASTICA_REPORT)
      process.stdout.write(`rss growth under attack: ${Math.round((rssPeak - rssBaseline) / 1048576)} MiB\n`);
    expect(rssPeak - rssBaseline).toBeLessThan(256 * 1024 * 1024);
  });
});
