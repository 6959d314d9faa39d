import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the test asked for it (a signal it sent); false is a crash. */
  expected: boolean;
  at: number;
}

export interface NodeProcessSpec {
  /** Names it in errors. */
  name: string;
  /** What runs: `node <argv>`. */
  argv: string[];
  /**
   * A command that execs `node <argv>` in its place (the chaos suite's `ip netns exec <namespace>`),
   * so the pid and the signals are still the node's own.
   */
  launcher?: string[];
  /** Added to the test's environment. */
  env?: Record<string, string>;
  /** Every run's output, stdout and stderr, behind a header line; the first start truncates it. */
  logFile: string;
}

/** One node's OS process, started again as often as a test asks, with every exit recorded. */
export class NodeProcess {
  readonly exits: Exit[] = [];
  private child: ChildProcess | undefined;
  private exit: Promise<Exit> | undefined;
  /** The current run's stdout and stderr have ended, and its exit line is written. */
  private drained: Promise<void> = Promise.resolve();
  /** One stream for every run until stop(), so a run's lines never interleave with the last of the run before. */
  private log: WriteStream | undefined;
  private expectingExit = false;
  private runs = 0;

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
    if (this.running) throw new Error(`${this.spec.name}: already running (pid ${this.pid})`);
    mkdirSync(dirname(this.spec.logFile), { recursive: true });
    this.runs += 1;
    const log = (this.log ??= createWriteStream(this.spec.logFile, { flags: this.runs === 1 ? 'w' : 'a' }));
    const [command, ...args] = [...(this.spec.launcher ?? []), process.execPath, ...this.spec.argv];
    const child = spawn(command, args, {
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    log.write(
      `=== start #${this.runs} pid ${child.pid} at ${new Date().toISOString()}: node ${this.spec.argv.join(' ')}\n`,
    );
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    this.expectingExit = false;
    this.child = child;
    this.exit = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        const exit: Exit = { code, signal, expected: this.expectingExit, at: Date.now() };
        this.exits.push(exit);
        resolve(exit);
      });
    });
    // 'close' comes after the last output, which may trail 'exit'.
    this.drained = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        const unasked = this.exits.at(-1)?.expected === false ? ' (no signal of the test: a crash, or a leave)' : '';
        log.write(`=== exit pid ${child.pid} code ${code} signal ${signal}${unasked} at ${new Date().toISOString()}\n`);
        resolve();
      });
    });
  }

  /** Sends `signal` (no-op when it is not running); the exit that follows counts as asked for. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.running) return;
    this.expectingExit = true;
    this.child!.kill(signal);
  }

  /** The current run's exit, once it has exited (at once if it has); undefined if it never started. */
  exited(): Promise<Exit | undefined> {
    return this.exit ?? Promise.resolve(undefined);
  }

  /**
   * Ends the process wherever it is (a frozen one is woken first) and waits until it and its log are
   * done; the exit, or undefined when it was not running.
   */
  async stop(): Promise<Exit | undefined> {
    const wasRunning = this.running;
    if (wasRunning) {
      this.child!.kill('SIGCONT');
      this.kill('SIGKILL');
    }
    const exit = wasRunning ? await this.exited() : undefined;
    await this.drained;
    const log = this.log;
    this.log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(resolve));
    return exit;
  }

  /** SIGTERM (a graceful shutdown); SIGKILL if it is still there after `graceMs`. */
  async terminate(graceMs = 10_000): Promise<Exit | undefined> {
    if (!this.running) return undefined;
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    try {
      this.kill('SIGTERM');
      return await this.exited();
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGSTOP: the process is frozen, its sockets stay open (a long GC pause, a stalled VM). */
  freeze(): void {
    this.signalRunning('SIGSTOP');
  }

  /** SIGCONT: a frozen process runs again. */
  thaw(): void {
    this.signalRunning('SIGCONT');
  }

  async restart(mode: 'kill' | 'terminate' = 'terminate'): Promise<void> {
    if (this.running) await (mode === 'kill' ? this.stop() : this.terminate());
    this.start();
  }

  /** For signals that do not end it: the test means a running process, so a dead one is its mistake. */
  private signalRunning(signal: NodeJS.Signals): void {
    if (!this.running) throw new Error(`${this.spec.name}: not running, cannot send ${signal}`);
    this.child!.kill(signal);
  }
}
