// A stand-in for the example app, to test the chaos harness itself (addressing, partitions, loss,
// signals) and the load driver's mechanics without the real cluster. It takes the example app's
// flags, keeps its key-value pairs in memory (no replication: it is a single node that only says it
// is one), and adds probes: who am I, can I reach that URL, send/count UDP datagrams.
import { createSocket } from 'node:dgram';
import { createServer, request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    http: { type: 'string' },
    seeds: { type: 'string' },
    host: { type: 'string' },
    'advertise-host': { type: 'string' },
    secret: { type: 'string' },
    cluster: { type: 'string' },
    // Taken and ignored: the stand-in keeps its pairs in memory whatever it is told.
    'data-dir': { type: 'string' },
    storage: { type: 'string' },
    udp: { type: 'string' },
  },
});
const host = values.host ?? '127.0.0.1';
const advertise = values['advertise-host'] ?? host;
const port = Number(values.port ?? 7001);
const id = `${advertise}:${port}`;
const generation = Date.now();
const store = new Map();
let udpReceived = 0;

const udp = createSocket('udp4');
udp.on('message', () => (udpReceived += 1));
if (values.udp) udp.bind(Number(values.udp), host);

/**
 * @param {string} url
 * @param {number} timeoutMs
 * @returns {Promise<{ ok: boolean; status?: number; error?: string }>}
 */
function probe(url, timeoutMs) {
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ ok: true, status: res.statusCode });
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, error: error.message });
    });
    req.end();
  });
}

/**
 * @param {string} target host:port
 * @param {number} count
 * @returns {Promise<number>}
 */
async function sendDatagrams(target, count) {
  const [toHost, toPort] = target.split(':');
  const socket = createSocket('udp4');
  for (let i = 0; i < count; i++) {
    await new Promise((resolve) => socket.send(Buffer.from(`d${i}`), Number(toPort), toHost, resolve));
    if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 1)); // let the receiver keep up
  }
  socket.close();
  return count;
}

/**
 * @param {import('node:http').ServerResponse} res
 * @param {number} status
 * @param {unknown} [body] text as it is, anything else as JSON
 * @returns {void}
 */
function reply(res, status, body) {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' }).end(text);
}

/**
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 */
async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://x');
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks).toString('utf8');
  const kv = /^\/kv\/(.+)$/.exec(url.pathname);
  if (kv) {
    const key = decodeURIComponent(kv[1]);
    if (req.method === 'PUT') return (store.set(key, body), reply(res, 204));
    if (req.method === 'DELETE') return (store.delete(key), reply(res, 204));
    if (req.method === 'GET') return store.has(key) ? reply(res, 200, store.get(key)) : reply(res, 404, 'not found');
  }
  if (req.method === 'GET' && url.pathname === '/cluster') {
    return reply(res, 200, {
      self: id,
      members: [{ id, address: { host: advertise, port }, status: 'up', phi: 0, generation }],
      ring: { ownership: { [id]: 1 } },
    });
  }
  if (req.method === 'GET' && url.pathname === '/whoami') {
    const addresses = Object.values(networkInterfaces())
      .flat()
      .filter((a) => a.family === 'IPv4' && !a.internal)
      .map((a) => a.address);
    return reply(res, 200, { id, pid: process.pid, bound: server.address(), addresses });
  }
  if (req.method === 'GET' && url.pathname === '/probe') {
    return reply(
      res,
      200,
      await probe(url.searchParams.get('url') ?? '', Number(url.searchParams.get('timeoutMs') ?? 1000)),
    );
  }
  if (req.method === 'POST' && url.pathname === '/udp-send') {
    return reply(res, 200, {
      sent: await sendDatagrams(url.searchParams.get('to') ?? '', Number(url.searchParams.get('count'))),
    });
  }
  if (req.method === 'GET' && url.pathname === '/udp-count') return reply(res, 200, { received: udpReceived });
  if (req.method === 'POST' && url.pathname === '/admin/leave') {
    reply(res, 204);
    return setTimeout(() => process.exit(0), 10);
  }
  reply(res, 404, 'no such route');
}

// A request that throws takes the stand-in down, as an unhandled rejection: the harness sees a crash.
const server = createServer((req, res) => void handle(req, res));
server.listen(Number(values.http ?? 8001), host, () =>
  console.log(`stand-in ${id} serving HTTP on ${host}:${values.http}`),
);
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
