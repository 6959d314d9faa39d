import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { LoggedEvent } from '../../../apps/kv-store/src/dashboard/event-log.js';
import { join } from 'node:path';
import { KV_STORE_ENTRY } from '../../support/build.js';
import { httpRequest, getJson, type HttpResult } from './http.js';
import { NetnsLab } from './netns-lab.js';
import { SBIN_PATH } from './shell.js';
import { NodeProcess } from '../../support/node-process.js';
import { ARTIFACTS } from './artifacts.js';
import { until } from '../../support/until.js';

/** One member as a node's `GET /cluster` reports it (contract §2). */
export interface MemberView {
  id: string;
  address: unknown;
  /** joining, up, down, leaving or left; a string, since it comes from a node's JSON. */
  status: string;
  phi: number;
  generation: number;
}

export interface ClusterView {
  self: string;
  members: MemberView[];
  ring: { ownership: Record<string, number> };
}

// One entry of a node's event log (`GET /cluster/events?since=N`): the app's own type, as it serves it.
export type { LoggedEvent };

export interface KvClusterOptions {
  /** Names the artifacts folder and the cluster. */
  suite: string;
  /** Unique per suite file (0..15): picks the bridge, subnet and namespace names. */
  suiteId: number;
  nodes: number;
  /** How many of the first nodes are listed as seeds. Default 3. */
  seeds?: number;
  /** The `--seeds` value instead (e.g. one `dns:` name): overrides `seeds`. */
  seedList?: string;
  /** How many of the first nodes `start` starts (the others with `startAgain`). Default all. */
  startFirst?: number;
  /** Extra arguments for node i only (e.g. a version during a rolling upgrade). */
  argsOf?: (i: number) => string[];
  /** What each node runs; default the example app. Extra flags may follow the contract's. */
  entry?: string;
  extraArgs?: string[];
  env?: Record<string, string>;
  /** Same in every namespace: each has its own port space. */
  gossipPort?: number;
  httpPort?: number;
  /** Node i keeps its data in `<dataRoot>/node-i` (kept across its restarts). Default a fresh temporary folder, removed by destroy(). */
  dataRoot?: string;
}

/**
 * N processes of the example app, each in its own network namespace, binding 0.0.0.0 and advertising
 * its namespace address, seeded by the first few: bind versus advertise for real. The test reaches
 * each node's HTTP port from the root namespace through the bridge.
 */
export class KvCluster {
  readonly nodes: NodeProcess[];
  /** Node ids as each node reports itself (`self` of its `GET /cluster`), learned at start. */
  readonly ids: string[] = [];
  readonly secret = randomBytes(12).toString('hex');
  private readonly gossipPort: number;
  private readonly httpPort: number;
  /** Node i's data directory. */
  readonly dataDirs: string[];
  private readonly ownDataRoot: string | undefined;

  private constructor(
    readonly lab: NetnsLab,
    readonly options: KvClusterOptions,
  ) {
    this.gossipPort = options.gossipPort ?? 7000;
    this.httpPort = options.httpPort ?? 8000;
    this.ownDataRoot = options.dataRoot ? undefined : mkdtempSync(join(tmpdir(), `kv-chaos-${options.suite}-`));
    const dataRoot = options.dataRoot ?? this.ownDataRoot!;
    this.dataDirs = lab.indexes().map((i) => join(dataRoot, `node-${i}`));
    const seeds =
      options.seedList ??
      lab
        .indexes()
        .slice(0, options.seeds ?? 3)
        .map((i) => `${lab.address(i)}:${this.gossipPort}`)
        .join(',');
    this.nodes = lab.indexes().map(
      (i) =>
        new NodeProcess({
          name: lab.namespace(i),
          // `ip netns exec` execs the node: the pid and the signals stay the node's own.
          launcher: ['ip', 'netns', 'exec', lab.namespace(i)],
          argv: [
            options.entry ?? KV_STORE_ENTRY,
            '--port',
            String(this.gossipPort),
            '--http',
            String(this.httpPort),
            '--seeds',
            seeds,
            '--host',
            '0.0.0.0',
            '--advertise-host',
            lab.address(i),
            '--secret',
            this.secret,
            '--cluster',
            `chaos-${options.suite}`,
            '--data-dir',
            this.dataDirs[i],
            ...(options.extraArgs ?? []),
            ...(options.argsOf?.(i) ?? []),
          ],
          // `ip` lives in the sbin folders, which a non-login shell may lack.
          env: { ...options.env, PATH: SBIN_PATH },
          logFile: join(ARTIFACTS, options.suite, `node-${i}.log`),
        }),
    );
  }

  /** Builds the lab, starts every node, and waits until each answers `GET /cluster`. */
  static async start(options: KvClusterOptions, beforeNodes?: (lab: NetnsLab) => void): Promise<KvCluster> {
    const lab = NetnsLab.create(options.suiteId, options.nodes);
    const cluster = new KvCluster(lab, options);
    try {
      beforeNodes?.(lab);
      const first = lab.indexes().slice(0, options.startFirst ?? options.nodes);
      for (const i of first) cluster.nodes[i].start();
      await Promise.all(first.map((i) => cluster.waitServing(i)));
    } catch (error) {
      await cluster.destroy();
      throw error;
    }
    return cluster;
  }

  get size(): number {
    return this.nodes.length;
  }
  indexes(): number[] {
    return this.lab.indexes();
  }
  url(i: number, path: string): string {
    return `http://${this.lab.address(i)}:${this.httpPort}${path}`;
  }

  async view(i: number, timeoutMs = 2000): Promise<ClusterView> {
    const raw = await getJson<{
      self: string | { id: string };
      members: MemberView[];
      ring: { ownership: Record<string, number> };
    }>(this.url(i, '/cluster'), timeoutMs);
    return { ...raw, self: typeof raw.self === 'string' ? raw.self : raw.self.id };
  }

  /** Node i's logged events after sequence number `since` (all it still holds with 0), oldest first. */
  async events(i: number, since = 0, timeoutMs = 2000): Promise<LoggedEvent[]> {
    return (await getJson<{ events: LoggedEvent[] }>(this.url(i, `/cluster/events?since=${since}`), timeoutMs)).events;
  }

  async put(i: number, key: string, value: string, timeoutMs = 5000): Promise<HttpResult> {
    return httpRequest('PUT', this.url(i, `/kv/${encodeURIComponent(key)}`), { body: value, timeoutMs });
  }
  async get(i: number, key: string, timeoutMs = 5000): Promise<HttpResult> {
    return httpRequest('GET', this.url(i, `/kv/${encodeURIComponent(key)}`), { timeoutMs });
  }
  async delete(i: number, key: string, timeoutMs = 5000): Promise<HttpResult> {
    return httpRequest('DELETE', this.url(i, `/kv/${encodeURIComponent(key)}`), { timeoutMs });
  }

  /** Waits until node i answers `GET /cluster`, and learns its id. */
  async waitServing(i: number, deadlineMs = 60_000): Promise<number> {
    const started = Date.now();
    const view = await until(`node ${i} serving GET /cluster`, () => this.view(i), deadlineMs);
    this.ids[i] = view.self;
    return Date.now() - started;
  }

  /**
   * Waits until every observer's view satisfies `check` (given the observer's index and view), and
   * returns the views then seen and the time it took.
   */
  async waitForViews(
    what: string,
    observers: number[],
    check: (view: ClusterView, observer: number) => boolean,
    deadlineMs: number,
  ): Promise<{ views: ClusterView[]; elapsedMs: number }> {
    const started = Date.now();
    const seen = await until(
      what,
      async () => {
        const views = await Promise.all(observers.map((i) => this.view(i)));
        const failing = observers.filter((o, k) => !check(views[k], o));
        if (failing.length > 0)
          throw new Error(
            `not yet at nodes ${failing.join(',')}: ${failing.map((o) => summarize(views[observers.indexOf(o)])).join(' | ')}`,
          );
        return views;
      },
      deadlineMs,
    );
    return { views: seen, elapsedMs: Date.now() - started };
  }

  /** Waits until each observer sees exactly `expected` (node index → status) for the nodes named. */
  async waitForStatuses(
    what: string,
    observers: number[],
    expected: Map<number, string>,
    deadlineMs: number,
  ): Promise<{ views: ClusterView[]; elapsedMs: number }> {
    return this.waitForViews(
      what,
      observers,
      (view) => [...expected].every(([i, status]) => statusOf(view, this.ids[i]) === status),
      deadlineMs,
    );
  }

  /** Restarts node i (SIGTERM, or SIGKILL with `mode: 'kill'`) and waits until it serves again. */
  async restart(i: number, mode: 'kill' | 'terminate' = 'terminate'): Promise<void> {
    await this.nodes[i].restart(mode);
    await this.waitServing(i);
  }

  /** Starts node i again after a kill, and waits until it serves. */
  async startAgain(i: number): Promise<void> {
    this.nodes[i].start();
    await this.waitServing(i);
  }

  partition(groupA: number[], groupB: number[]): void {
    this.lab.partition(groupA, groupB);
  }
  oneWay(from: number, to: number): void {
    this.lab.oneWay(from, to);
  }
  loss(percent: number): void {
    this.lab.loss(percent);
  }
  heal(): void {
    this.lab.heal();
  }

  /** Every exit nobody asked for, by node index. */
  crashes(): { node: number; code: number | null; signal: string | null }[] {
    return this.nodes.flatMap((n, i) => n.crashes.map((e) => ({ node: i, code: e.code, signal: e.signal })));
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    this.lab.destroy();
    if (this.ownDataRoot) rmSync(this.ownDataRoot, { recursive: true, force: true });
  }
}

export function memberOf(view: ClusterView, id: string): MemberView | undefined {
  return view.members.find((m) => m.id === id);
}

export function statusOf(view: ClusterView, id: string): string | undefined {
  return memberOf(view, id)?.status;
}

/** What must be identical across nodes once they agree: who, in what state, of which generation, and the ring. */
export function canonicalView(view: ClusterView): string {
  const members = [...view.members]
    .sort((a, b) => a.id.localeCompare(b.id))
    .map((m) => `${m.id}:${m.status}:${m.generation}`);
  const ownership = Object.entries(view.ring.ownership)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, f]) => `${id}=${f.toFixed(9)}`);
  return `${members.join(',')} | ${ownership.join(',')}`;
}

export function summarize(view: ClusterView): string {
  return `${view.self} sees ${view.members.map((m) => `${m.id}:${m.status}`).join(' ')}`;
}
