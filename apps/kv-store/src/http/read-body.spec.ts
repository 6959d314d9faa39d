import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { BodyTooLargeError, readBody } from './read-body.js';

/**
 * readBody behind a bare HTTP server that answers 413 as soon as a body is refused, before the client
 * has finished sending it: the refusal must reach the client, and the connection must stay usable.
 */
describe('readBody on a running server', () => {
  const LIMIT = 1024;
  let server: Server;
  let port: number;
  const sockets = new Set<unknown>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      sockets.add(req.socket);
      readBody(req, LIMIT).then(
        (text) => {
          res.statusCode = 200;
          res.end(`${text.length}`);
        },
        (error: unknown) => {
          res.statusCode = error instanceof BodyTooLargeError ? 413 : 500;
          res.end((error as Error).message);
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A PUT over `agent`; `send` writes the body (and ends it); resolves with the status and text. */
  function put(agent: Agent, send: (req: ReturnType<typeof request>) => void, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/', agent, headers });
      req.on('response', (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      send(req);
    });
  }

  it('refuses a body from its Content-Length, drops the rest as it comes, and serves the next request on the same connection', async () => {
    sockets.clear();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const big = Buffer.alloc(300 * 1024, 97);
    const refused = await put(agent, (req) => req.end(big), { 'Content-Length': String(big.length) });
    expect(refused).toEqual({ status: 413, text: expect.stringMatching(/larger than 1024 bytes/) });
    expect(await put(agent, (req) => req.end('fits'))).toEqual({ status: 200, text: '4' });
    expect(sockets.size).toBe(1);
    agent.destroy();
  });

  it('refuses a streamed body past the limit, drops the rest, and serves the next request on the same connection', async () => {
    sockets.clear();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const streamed = (req: ReturnType<typeof request>): void => {
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(16 * 1024, 98));
      req.end();
    };
    expect((await put(agent, streamed)).status).toBe(413);
    expect(await put(agent, (req) => req.end('fits'))).toEqual({ status: 200, text: '4' });
    expect(sockets.size).toBe(1);
    agent.destroy();
  });

  it('cuts off a client that goes on sending a refused body well past the bound (1 MiB here)', async () => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('error', () => {}); // the cut-off may reach this client as a reset
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('PUT / HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n\r\n');
    const chunk = Buffer.concat([Buffer.from('4000\r\n'), Buffer.alloc(0x4000, 99), Buffer.from('\r\n')]);
    const pump = (): void => {
      if (socket.destroyed || sent > 64 * 1024 * 1024) return;
      sent += chunk.length;
      socket.write(chunk, () => setImmediate(pump));
    };
    pump();
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(sent).toBeGreaterThan(1024 * 1024);
    expect(sent).toBeLessThan(64 * 1024 * 1024); // by its byte bound, not by its 5 s time bound
  }, 15_000);
});
