// `npm start`: install the dependencies when they are not (tools/setup.mjs: it may be the first command on
// a fresh clone), build what is needed, then run a local cluster of the example app (three nodes, or
// `npm start -- --nodes N`), print the dashboard's address and what to try; Ctrl-C stops every node.
// Ports: cluster 7001.., HTTP 8001.. (ELASTICA_START_PORT / ELASTICA_START_HTTP move them).
// `--no-build` runs what dist/ holds (the smoke test builds once, under the test suites' build lock).
// Each node keeps its data in ./data/node-<port> (LMDB): a second `npm start` finds every key again;
// `--fresh` wipes those directories first.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ensureDependencies } from './setup.mjs';

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    'no-build': { type: 'boolean', default: false },
    fresh: { type: 'boolean', default: false },
  },
  strict: true,
});
const count = Number(values.nodes);
if (!Number.isInteger(count) || count < 1 || count > 20) {
  console.error(`--nodes must be an integer from 1 to 20, got ${JSON.stringify(values.nodes)}`);
  process.exit(2);
}
const basePort = Number(process.env.ELASTICA_START_PORT ?? 7001);
const baseHttp = Number(process.env.ELASTICA_START_HTTP ?? 8001);

ensureDependencies();
if (!values['no-build']) {
  console.log('Building the library and the app…');
  const build = spawnSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

/**
 * @typedef {{ name: string, port: number, http: number, child?: import('node:child_process').ChildProcess, exited: boolean }} Node
 * @typedef {{ members: { id: string, status: string }[], ring: { ownership: Record<string, number> } }} ClusterView
 */

const COLORS = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92];
/** @param {number} i @param {string} text */
const color = (i, text) => (process.stdout.isTTY ? `\x1b[${COLORS[i % COLORS.length]}m${text}\x1b[0m` : text);
// Nest's start-up chatter (module and route listings) times N nodes hides what matters.
const NOISE = /RoutesResolver|RouterExplorer|InstanceLoader|NestFactory|NestMicroservice|NestApplication/;

const seeds = Array.from({ length: Math.min(2, count) }, (_, i) => `127.0.0.1:${basePort + i}`).join(',');
/** @type {Node[]} */
const nodes = Array.from({ length: count }, (_, i) => ({
  name: `node${i + 1}`,
  port: basePort + i,
  http: baseHttp + i,
  exited: false,
}));

const dataDir = (/** @type {Node} */ node) => resolve(process.env.ELASTICA_START_DATA ?? 'data', `node-${node.port}`);
if (values.fresh) {
  for (const node of nodes) rmSync(dataDir(node), { recursive: true, force: true });
  console.log(`--fresh: wiped the data of ${count} node(s)`);
}

let stopping = false;
for (const [i, node] of nodes.entries()) {
  const args = [
    'dist/apps/kv-store/main.js',
    '--port',
    String(node.port),
    '--http',
    String(node.http),
    '--seeds',
    seeds,
    '--data-dir',
    dataDir(node),
  ];
  const env = process.stdout.isTTY ? process.env : { ...process.env, NO_COLOR: '1' };
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  node.child = child;
  const tag = color(i, `[${node.name}]`.padEnd(9));
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (!NOISE.test(line)) console.log(`${tag}${line}`);
    });
  }
  child.on('exit', (code, signal) => {
    node.exited = true;
    if (!stopping) console.log(`${tag}exited (${signal ?? `code ${code}`})`);
    if (nodes.every((n) => n.exited)) process.exit(stopping ? 0 : 1);
  });
}

function stopAll() {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping every node…');
  // SIGINT, not SIGTERM: SIGTERM decommissions a node (its data handed to the others, then it leaves),
  // pointless when every node stops at once; SIGINT (as Ctrl-C gives each node too) just closes it.
  for (const node of nodes) if (!node.exited) node.child?.kill('SIGINT');
  setTimeout(() => {
    for (const node of nodes) if (!node.exited) node.child?.kill('SIGKILL');
  }, 5000).unref();
}
process.on('SIGINT', stopAll);
process.on('SIGTERM', stopAll);

/**
 * How many members this node sees up and owning a share of the ring (0 while it is unreachable).
 * @param {number} http
 */
async function readyCount(http) {
  try {
    const res = await fetch(`http://127.0.0.1:${http}/cluster`);
    const body = /** @type {ClusterView} */ (/** @type {unknown} */ (await res.json()));
    return body.members.filter((m) => m.status === 'up' && body.ring.ownership[m.id] > 0).length;
  } catch {
    return 0;
  }
}

const started = Date.now();
console.log(`Starting ${count} nodes; the dashboard will be at http://127.0.0.1:${nodes[0].http}/ …`);
let ready = false;
while (!stopping && Date.now() - started < 90_000) {
  const counts = await Promise.all(nodes.map((n) => readyCount(n.http)));
  if (counts.every((c) => c === count)) {
    ready = true;
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
}
if (!stopping) {
  const first = nodes[0];
  const last = nodes[nodes.length - 1];
  const pids = nodes.map((n) => `${n.name}=${n.child?.pid}`).join(' ');
  const failure =
    count >= 3
      ? `\n        kill -9 ${last.child?.pid}      (${last.name}: watch it turn down on the dashboard; reads still work)\n        curl -X POST http://127.0.0.1:${last.http}/admin/leave   (a graceful decommission: its data moves, then it exits)`
      : '';
  console.log(`
  ${ready ? `${count} nodes up, the ring shared between them, after` : `still waiting for every node to be up and own a share of the ring after`} ${((Date.now() - started) / 1000).toFixed(1)} s.

  Dashboard:  http://127.0.0.1:${first.http}/   (any node serves it: ${nodes.map((n) => n.http).join(', ')})
  Data:       ${dataDir(first)} … (kept between runs; \`npm start -- --fresh\` wipes it)

  Try:  curl -X PUT http://127.0.0.1:${first.http}/kv/hello -d world
        curl http://127.0.0.1:${last.http}/kv/hello          (any node serves any key)
        npm run -s elastica -- status --node 127.0.0.1:${first.port} --cluster kv-store   (like nodetool status)${failure}
  pids: ${pids}
  Ctrl-C stops every node.
`);
}
