import { until } from '../../support/until.js';
import type { KvCluster } from './kv-cluster.js';

export interface KvLoadOptions {
  /** Concurrent clients. */
  workers: number;
  /** Each client's own keys: `Infinity` writes a new key every time (no reads); otherwise the client
   *  cycles over this many keys, overwriting and reading them back. */
  keysPerWorker: number;
  /** Share of operations that are reads (0..1), when keys are reused. */
  readShare?: number;
  /** Pause between one client's operations: load, not a CPU-bound flood that would starve the nodes. */
  pauseMs?: number;
  timeoutMs?: number;
  prefix: string;
}

export interface LoadFailure {
  op: 'put' | 'get';
  key: string;
  node: number;
  at: number;
  error: string;
}

const ABSENT = '\u0000absent';

/**
 * Clients writing to and reading from the cluster through whichever nodes are in service, keeping
 * what was acknowledged. Each key belongs to one client, so for every read the client knows what it
 * may see: the last acknowledged value, or the value of a later write whose outcome it never learned
 * (a failed write may or may not have landed). Anything else is a mismatch: a lost or stale write.
 */
export class KvLoad {
  /** Key → last acknowledged value. */
  readonly acked = new Map<string, string>();
  readonly failures: LoadFailure[] = [];
  readonly mismatches: { key: string; node: number; expected: string[]; got: string }[] = [];
  ackedWrites = 0;
  okReads = 0;
  private readonly possible = new Map<string, Set<string>>();
  private readonly excluded = new Set<number>();
  private readonly inFlight = new Map<number, number>();
  private running = false;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly cluster: KvCluster,
    private readonly options: KvLoadOptions,
  ) {}

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.options.workers }, (_, w) => this.work(w));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  /** Sends no more requests to node i, and resolves once those in flight to it have ended. */
  async exclude(i: number): Promise<void> {
    this.excluded.add(i);
    // Each request gives up after its own timeout, so the deadline only names a hang.
    await until(`the requests in flight to node ${i} ended`, () => (this.inFlight.get(i) ?? 0) === 0, 60_000, 20);
  }

  include(i: number): void {
    this.excluded.delete(i);
  }

  /** Failures of requests sent to nodes other than `ignored` (whose requests were in flight when it was killed). */
  failuresExcept(ignored: number[]): LoadFailure[] {
    return this.failures.filter((f) => !ignored.includes(f.node));
  }

  private async work(worker: number): Promise<void> {
    let seq = 0;
    while (this.running) {
      const targets = this.cluster.indexes().filter((i) => !this.excluded.has(i));
      if (targets.length === 0) {
        await sleep(50);
        continue;
      }
      const node = targets[Math.floor(Math.random() * targets.length)];
      seq += 1;
      const reuse = Number.isFinite(this.options.keysPerWorker);
      const key = `${this.options.prefix}-w${worker}-k${reuse ? seq % this.options.keysPerWorker : seq}`;
      const read = reuse && Math.random() < (this.options.readShare ?? 0.5);
      this.inFlight.set(node, (this.inFlight.get(node) ?? 0) + 1);
      try {
        if (read) await this.read(node, key);
        else await this.write(node, key, `v${seq}-${Math.random().toString(36).slice(2, 10)}`);
      } finally {
        this.inFlight.set(node, this.inFlight.get(node)! - 1);
      }
      if (this.options.pauseMs) await sleep(this.options.pauseMs);
    }
  }

  private async write(node: number, key: string, value: string): Promise<void> {
    const possible = this.possible.get(key) ?? new Set([ABSENT]);
    this.possible.set(key, possible);
    possible.add(value); // from now on it may have landed, whatever we hear
    try {
      const res = await this.cluster.put(node, key, value, this.options.timeoutMs ?? 10_000);
      if (res.status !== 204) throw new Error(`status ${res.status}: ${res.body.slice(0, 200)}`);
      this.acked.set(key, value);
      this.possible.set(key, new Set([value]));
      this.ackedWrites += 1;
    } catch (error) {
      this.failures.push({ op: 'put', key, node, at: Date.now(), error: (error as Error).message });
    }
  }

  private async read(node: number, key: string): Promise<void> {
    try {
      const res = await this.cluster.get(node, key, this.options.timeoutMs ?? 10_000);
      if (res.status !== 200 && res.status !== 404) throw new Error(`status ${res.status}: ${res.body.slice(0, 200)}`);
      const got = res.status === 404 ? ABSENT : res.body;
      const possible = this.possible.get(key) ?? new Set([ABSENT]);
      if (!possible.has(got)) this.mismatches.push({ key, node, expected: [...possible], got });
      this.okReads += 1;
    } catch (error) {
      this.failures.push({ op: 'get', key, node, at: Date.now(), error: (error as Error).message });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads every key back through `nodes` (round-robin, a few at a time); returns the ones not as acknowledged. */
export async function readBack(
  cluster: KvCluster,
  acked: Map<string, string>,
  nodes: number[],
  concurrency = 8,
): Promise<{ key: string; node: number; expected: string; got: string }[]> {
  const entries = [...acked];
  const wrong: { key: string; node: number; expected: string; got: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < entries.length) {
        const k = next++;
        const [key, expected] = entries[k];
        const node = nodes[k % nodes.length];
        try {
          const res = await cluster.get(node, key, 10_000);
          if (res.status !== 200 || res.body !== expected)
            wrong.push({ key, node, expected, got: `${res.status} ${res.body.slice(0, 100)}` });
        } catch (error) {
          wrong.push({ key, node, expected, got: (error as Error).message });
        }
      }
    }),
  );
  return wrong;
}

/** A list as an assertion subject: its length and its first few items, so a failure stays readable. */
export function firstOf<T>(items: T[], n = 5): { count: number; first: T[] } {
  return { count: items.length, first: items.slice(0, n) };
}
