import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The repository root: Jest runs from it, and the suites' relative paths start there. */
export const ROOT = process.cwd();
export const KV_STORE_ENTRY = 'dist/apps/kv-store/main.js';
const OUTPUTS = [KV_STORE_ENTRY, 'libs/elastica/dist/index.js'];
const SOURCES = [
  'libs/elastica/src',
  'apps/kv-store/src',
  'package.json',
  'tsconfig.json',
  'libs/elastica/tsconfig.lib.json',
  'apps/kv-store/tsconfig.app.json',
];

function newestMtime(path: string): number {
  const full = join(ROOT, path);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(full).map((entry) => newestMtime(join(path, entry))));
}

function fresh(): boolean {
  const built = Math.min(...OUTPUTS.map((p) => (existsSync(join(ROOT, p)) ? statSync(join(ROOT, p)).mtimeMs : 0)));
  return built > Math.max(...SOURCES.map(newestMtime));
}

/**
 * The chaos, kv-store and load suites run the built example app as real processes, as users do, and
 * `npm test` does not build: so the first suite to need it runs `npm run build`, one at a time across
 * Jest workers by a lock folder (a build rewriting dist/ while another suite starts a node from it
 * could hand that node a half-written file), and the others find it fresh.
 */
export function ensureBuilt(): void {
  if (fresh()) return;
  const lock = join(ROOT, 'dist', '.chaos-build.lock');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const start = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - start > 300_000) throw new Error(`${lock} held for 5 minutes: remove it if no build is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    if (fresh()) return;
    const result = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    if (result.status !== 0)
      throw new Error(`npm run build failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}
