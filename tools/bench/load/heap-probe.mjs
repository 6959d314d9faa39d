// Loaded into every node of the load benchmark by the driver (`node --expose-gc --import <this>`), so
// the example app needs no test-only endpoint. On the driver's request over the IPC channel it runs a
// full GC and answers with the memory still in use: what the node retains, without the garbage whose
// amount depends on how fast it was allocated (RSS follows V8's heap growth, a function of the bytes
// allocated so far, so it climbs for longer on a slower machine).
if (process.send) {
  process.on('message', (/** @type {{ type?: unknown; id?: unknown } | null} */ msg) => {
    if (msg?.type !== 'elastica-load:heap?') return;
    if (typeof globalThis.gc !== 'function') {
      process.send({ type: 'elastica-load:heap', id: msg.id, error: 'the node was not started with --expose-gc' });
      return;
    }
    globalThis.gc();
    const { heapUsed, external } = process.memoryUsage();
    process.send({ type: 'elastica-load:heap', id: msg.id, heapUsed, external });
  });
  // The channel must not keep a node alive that is meant to exit (SIGTERM, decommission).
  process.channel?.unref();
}
