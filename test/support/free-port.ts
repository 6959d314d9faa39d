import { createServer } from 'node:net';

// Ports come from below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 on
// Linux). A port the kernel handed out for `listen(0)` and then freed is also a candidate for the
// source port of the next outgoing connection, and a node that binds it a moment later then fails
// with EADDRINUSE; two `listen(0)` calls in a row may even return the same port. Here each call takes
// the next block of BLOCK ports from a counter (so callers may use port+1.. port+BLOCK-1 as a run),
// starting at an offset chosen per test file, and skips a block whose first port someone else holds.
// Jest runs two test files at once (`--maxWorkers=2`): each worker draws from its own slice of the
// range, since the check above only proves a port free at that instant, and a file running beside it
// in another worker could take it before the node binds it (seen: EADDRINUSE for a kv-store node).
const LOW = 20_000;
const HIGH = 32_000;
const BLOCK = 10;
const SLICES = 4;
const SPAN = (HIGH - LOW) / SLICES;
const slice = (Math.max(1, Number(process.env.JEST_WORKER_ID ?? '1')) - 1) % SLICES;
const SLICE_LOW = LOW + slice * SPAN;
const SLICE_HIGH = SLICE_LOW + SPAN;
let next = SLICE_LOW + BLOCK * Math.floor(Math.random() * (SPAN / BLOCK));

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A loopback port nobody listens on right now, never handed out twice by this process: suites never hard-code ports. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < SPAN / BLOCK; tries++) {
    const port = next;
    next = next + BLOCK >= SLICE_HIGH ? SLICE_LOW : next + BLOCK;
    if (await bindable(port)) return port;
  }
  throw new Error(`no bindable port between ${SLICE_LOW} and ${SLICE_HIGH} on 127.0.0.1`);
}
