import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt } from '../../chaos/harness/build.js';

export const ROOT = process.cwd();
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'kv-store');
const MAIN = join(ROOT, 'dist', 'apps', 'kv-store', 'main.js');

/**
 * Builds the library and the app when dist/ is older than the sources (the tests run the compiled app,
 * as users do), under the lock the chaos and load suites take: a build rewriting dist/ while another
 * suite starts a node from it could hand that node a half-written file.
 */
export function buildApp(): void {
  ensureBuilt();
}

export { freePort } from '../../support/free-port.js';

export interface NodeSpec {
  name: string;
  port: number;
  http: number;
  seeds: string[];
}

/** One `node dist/apps/kv-store/main.js` child, its output kept in test-artifacts/kv-store/<name>.log. */
export class NodeProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private exitPromise: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  private readonly tail: string[] = [];
  starts = 0;

  constructor(readonly spec: NodeSpec) {}

  get id(): string {
    return `127.0.0.1:${this.spec.port}`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.spec.http}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    mkdirSync(ARTIFACTS, { recursive: true });
    this.starts++;
    this.log = createWriteStream(join(ARTIFACTS, `${this.spec.name}.log`), { flags: this.starts === 1 ? 'w' : 'a' });
    this.log.write(`---- start #${this.starts} at ${new Date().toISOString()}\n`);
    const args = [
      MAIN,
      '--port',
      String(this.spec.port),
      '--http',
      String(this.spec.http),
      '--seeds',
      this.spec.seeds.join(','),
    ];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    this.child = child;
    const log = this.log;
    const keep = (chunk: Buffer): void => {
      log.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) if (line) this.tail.push(line);
      if (this.tail.length > 200) this.tail.splice(0, this.tail.length - 200);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.exitPromise = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        log.end(`---- exited: ${signal ?? `code ${code}`}\n`);
        resolve({ code, signal });
      }),
    );
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child!.kill(signal);
  }

  /** Resolves when the current run exits (at once if it has). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return this.exitPromise ?? Promise.resolve({ code: null, signal: null });
  }

  async stop(): Promise<void> {
    this.kill('SIGKILL');
    await this.exited();
  }

  /** The last lines it printed, for failure messages. */
  lastLines(n = 30): string {
    return this.tail.slice(-n).join('\n');
  }
}
