import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { KvStoreService } from '../kv/kv-store.service.js';
import { InMemoryCluster } from '../replication/testing/in-memory-cluster.js';
import { HttpLimits } from './http-limits.js';
import { KvController } from './kv.controller.js';

describe('HttpLimits (pure)', () => {
  it('lends body bytes up to its bound, counts refusals, and gets everything back on release', () => {
    const limits = new HttpLimits({ maxConnections: 10, maxBodyBytesInFlight: 100 });
    const a = limits.reserve();
    const b = limits.reserve();
    expect(a.take(60)).toBe(true);
    expect(b.take(50)).toBe(false); // 110 > 100: nothing taken
    expect(b.take(40)).toBe(true);
    expect(limits.stats()).toMatchObject({ bodyBytesInFlight: 100, refusedBodies: 1 });
    a.release();
    a.release(); // idempotent
    expect(limits.stats().bodyBytesInFlight).toBe(40);
    expect(a.take(1)).toBe(false); // a released reservation takes nothing more
    b.release();
    expect(limits.stats().bodyBytesInFlight).toBe(0);
  });

  it('logs refusals at most once per interval, with the count since the last line', () => {
    const lines: string[] = [];
    let now = 0;
    const limits = new HttpLimits(
      { maxConnections: 10, maxBodyBytesInFlight: 1 },
      (m) => lines.push(m),
      () => now,
      10_000,
    );
    for (let i = 0; i < 50; i++) limits.reserve().take(2);
    expect(lines).toHaveLength(1);
    now = 10_000;
    limits.reserve().take(2);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      /^HTTP limits: 50 request body\(ies\) refused with 503 at the bound of 1 body bytes in flight \(totals: 0 dropped, 51 refused/,
    );
  });

  it('refuses limits that are not positive integers', () => {
    expect(() => new HttpLimits({ maxConnections: 0, maxBodyBytesInFlight: 1 })).toThrow(
      /maxConnections must be a positive integer, got 0/,
    );
  });
});

/** The real KvController on a real HTTP server (port 0), over a one-node store in memory. */
describe('HTTP limits on a running server', () => {
  const BUDGET = 64 * 1024;
  const MAX_CONNECTIONS = 4;
  const cluster = new InMemoryCluster(3);
  const limits = new HttpLimits({ maxConnections: MAX_CONNECTIONS, maxBodyBytesInFlight: BUDGET });
  let app: INestApplication;
  let server: Server;
  let port: number;

  @Module({
    controllers: [KvController],
    providers: [
      { provide: KvStoreService, useValue: { node: cluster.add('a') } },
      { provide: HttpLimits, useValue: limits },
    ],
  })
  class TestModule {}

  beforeAll(async () => {
    app = await NestFactory.create(TestModule, { logger: false, bodyParser: false });
    server = app.getHttpServer() as Server;
    limits.apply(server);
    await app.listen(0, '127.0.0.1');
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await app?.close();
  });

  async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** A PUT whose body is sent as asked; resolves with the status and headers once answered. */
  function put(key: string) {
    const req = request({ host: '127.0.0.1', port, method: 'PUT', path: `/kv/${key}`, agent: false });
    const answer = new Promise<{ status: number; retryAfter?: string; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
      });
      req.on('error', reject);
    });
    return { req, answer };
  }

  it('answers 503 with Retry-After when bodies in flight would pass the budget, and takes the write once they are done', async () => {
    const slow = put('slow');
    slow.req.write(Buffer.alloc(48 * 1024, 97)); // held: the PUT has not ended
    await until('the first body to be held', () => limits.stats().bodyBytesInFlight >= 48 * 1024);
    const refused = put('refused');
    refused.req.end(Buffer.alloc(32 * 1024, 98));
    const answer = await refused.answer;
    expect(answer).toMatchObject({ status: 503, retryAfter: '1' });
    expect((JSON.parse(answer.body) as { message: string }).message).toMatch(
      /already holds 65536 bytes of request bodies in flight, its bound; retry shortly/,
    );
    slow.req.end();
    expect((await slow.answer).status).toBe(204);
    expect(limits.stats().bodyBytesInFlight).toBe(0); // released once the write was acknowledged
    const again = put('refused');
    again.req.end(Buffer.alloc(32 * 1024, 98));
    expect((await again.answer).status).toBe(204);
    expect(limits.stats()).toMatchObject({ bodyBytesInFlight: 0, refusedBodies: 1 });
    expect(cluster.node('a').storage.get('slow')?.value).toHaveLength(48 * 1024);
  });

  it('drops connections past maxConnections, and serves again once one closes', async () => {
    const open = async (): Promise<Socket> => {
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      return socket;
    };
    const connections = (): Promise<number> =>
      new Promise((resolve, reject) => server.getConnections((error, n) => (error ? reject(error) : resolve(n))));
    const idle: Socket[] = [];
    for (let i = 0; i < MAX_CONNECTIONS; i++) idle.push(await open());
    await until('the server to hold every connection', async () => (await connections()) === MAX_CONNECTIONS);
    const extra = await open();
    const closed = new Promise((resolve) => extra.once('close', resolve));
    extra.on('error', () => {}); // a reset is one way of being dropped
    await closed;
    expect(limits.stats().droppedConnections).toBe(1);
    idle.pop()!.destroy();
    await until('one connection to go', async () => (await connections()) === MAX_CONNECTIONS - 1);
    const ok = put('after');
    ok.req.end('fine');
    expect((await ok.answer).status).toBe(204);
    for (const socket of idle) socket.destroy();
  });
});
