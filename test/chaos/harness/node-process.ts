import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { SBIN_PATH } from './shell.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the harness asked for it (kill, terminate, restart); false is a crash. */
  expected: boolean;
  at: number;
}

export interface NodeProcessSpec {
  /** The network namespace it runs in (`ip netns exec`, which execs: the pid is the node's own). */
  namespace: string;
  /** What runs: `node <argv>`. */
  argv: string[];
  env?: Record<string, string>;
  /** Every start appends to this file, stdout and stderr, behind a header line. */
  logFile: string;
}

/** One node's OS process, started again as often as a scenario asks, with every exit recorded. */
export class NodeProcess {
  readonly exits: Exit[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<Exit> | undefined;
  private expectingExit = false;
  private log: WriteStream | undefined;
  private starts = 0;

  constructor(readonly spec: NodeProcessSpec) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }
  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }
  /** Exits nobody asked for. */
  get crashes(): Exit[] {
    return this.exits.filter((e) => !e.expected);
  }

  start(): void {
    if (this.running) throw new Error(`${this.spec.namespace}: already running (pid ${this.pid})`);
    mkdirSync(dirname(this.spec.logFile), { recursive: true });
    this.log ??= createWriteStream(this.spec.logFile, { flags: 'a' });
    this.starts += 1;
    const child = spawn('ip', ['netns', 'exec', this.spec.namespace, process.execPath, ...this.spec.argv], {
      env: { ...process.env, ...this.spec.env, PATH: SBIN_PATH },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.log.write(
      `\n=== start #${this.starts} pid ${child.pid} at ${new Date().toISOString()}: node ${this.spec.argv.join(' ')}\n`,
    );
    child.stdout.pipe(this.log, { end: false });
    child.stderr.pipe(this.log, { end: false });
    this.expectingExit = false;
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        const exit: Exit = { code, signal, expected: this.expectingExit, at: Date.now() };
        this.exits.push(exit);
        this.log?.write(
          `=== exit pid ${child.pid} code ${code} signal ${signal}${exit.expected ? '' : ' (UNEXPECTED)'} at ${new Date().toISOString()}\n`,
        );
        resolve(exit);
      });
    });
  }

  /** SIGKILL, and waits until the process is gone. */
  async kill(): Promise<Exit | undefined> {
    return this.signalAndWait('SIGKILL');
  }

  /** SIGTERM (a graceful shutdown); SIGKILL if it is still there after `graceMs`. */
  async terminate(graceMs = 10_000): Promise<Exit | undefined> {
    if (!this.running) return undefined;
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    try {
      return await this.signalAndWait('SIGTERM');
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGSTOP: the process is frozen, its sockets stay open (a long GC pause, a stalled VM). */
  stop(): void {
    this.signal('SIGSTOP');
  }

  cont(): void {
    this.signal('SIGCONT');
  }

  /** Waits for an exit the node makes on its own (after `POST /admin/leave`, say). */
  async waitForExit(): Promise<Exit | undefined> {
    this.expectingExit = true;
    return this.running ? this.exited : undefined;
  }

  async restart(mode: 'kill' | 'terminate' = 'terminate'): Promise<void> {
    if (this.running) await (mode === 'kill' ? this.kill() : this.terminate());
    this.start();
  }

  /** Ends the process, wherever it is (a stopped process is woken so SIGKILL can take it). */
  async dispose(): Promise<void> {
    if (this.running) {
      this.signal('SIGCONT');
      await this.kill();
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    this.log = undefined;
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.running) throw new Error(`${this.spec.namespace}: not running, cannot send ${signal}`);
    this.child!.kill(signal);
  }

  private async signalAndWait(signal: NodeJS.Signals): Promise<Exit | undefined> {
    if (!this.running) return undefined;
    this.expectingExit = true;
    this.child!.kill(signal);
    return this.exited;
  }
}
