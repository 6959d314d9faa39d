import {
  DEFAULT_GOSSIP,
  failureDetectorDefaults,
  GossipNode,
  PeerLiveness,
  type FailureDetectorOptions,
  type GossipOptions,
  type MembershipEvent,
  type Outgoing,
  type StateChange,
} from 'elastica';
import { SeededRandom } from 'elastica/testing';
import { EventQueue } from './event-queue.js';

export interface SimOptions {
  nodes: number;
  seed: number;
  /** Probability that any one message is lost. */
  loss?: number;
  latencyMs?: number;
  /** Extra delay, uniform in [0, jitterMs). */
  jitterMs?: number;
  /** How many of the first nodes are seeds. Default min(3, nodes). */
  seedCount?: number;
  gossip?: Partial<GossipOptions>;
  failureDetector?: Partial<FailureDetectorOptions>;
}

/** Virtual time starts at a plausible epoch, so generations look like the real ones (ms timestamps). */
export const EPOCH = 1_700_000_000_000;

export interface SimNode {
  readonly index: number;
  readonly id: string;
  readonly address: string;
  core: GossipNode;
  liveness: PeerLiveness;
  alive: boolean;
  started: boolean;
  /** Nodes in different groups cannot reach each other. */
  group: number;
  bytesSent: number;
  msgsSent: number;
  /** Bumped on crash, so ticks scheduled for an old run do nothing. */
  run: number;
}

/**
 * N real GossipNode cores on a virtual clock with a simulated network (latency, jitter, loss,
 * partitions), crashes and restarts. Everything random comes from one seed: same seed, same run.
 */
export class Simulation {
  now = EPOCH;
  readonly nodes: SimNode[] = [];
  readonly gossip: GossipOptions;
  readonly failureDetector: FailureDetectorOptions;
  readonly seeds: string[];
  readonly eventHooks: ((observer: SimNode, event: MembershipEvent, now: number) => void)[] = [];
  readonly changeHooks: ((observer: SimNode, change: StateChange, now: number) => void)[] = [];
  readonly notices: string[] = [];
  messagesDropped = 0;
  private readonly queue = new EventQueue();
  private readonly random: SeededRandom;
  private readonly byAddress = new Map<string, SimNode>();
  /** One-way cuts, as `from>to` indexes. */
  private readonly blocked = new Set<string>();
  private readonly loss: number;
  private readonly latencyMs: number;
  private readonly jitterMs: number;

  constructor(readonly options: SimOptions) {
    this.random = new SeededRandom(options.seed);
    this.loss = options.loss ?? 0;
    this.latencyMs = options.latencyMs ?? 2;
    this.jitterMs = options.jitterMs ?? 0;
    this.gossip = { ...DEFAULT_GOSSIP, ...options.gossip };
    this.failureDetector = {
      ...failureDetectorDefaults(this.gossip.intervalMs, options.failureDetector),
      ...options.failureDetector,
    };
    const seedCount = options.seedCount ?? Math.min(3, options.nodes);
    this.seeds = [];
    for (let i = 0; i < seedCount; i++) this.seeds.push(Simulation.address(i));
  }

  static id(index: number): string {
    return `node-${index}`;
  }

  static address(index: number): string {
    return `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}:7000`;
  }

  /** Starts every node at a random moment of the first interval, each knowing only the seeds. */
  start(): void {
    for (let i = 0; i < this.options.nodes; i++) {
      const at = this.now + Math.floor(this.random.next() * this.gossip.intervalMs);
      const node = this.createNode(i, at);
      this.nodes.push(node);
      this.byAddress.set(node.address, node);
      node.alive = false;
      node.started = false;
      this.queue.schedule(at, () => {
        node.started = true;
        if (node.run !== 0) return; // crashed before it even started
        node.alive = true;
        this.scheduleTick(node, at);
      });
    }
  }

  /**
   * Starts the next `count` nodes (by index, up to `options.nodes`), each at a random moment of the
   * next `spreadMs`, knowing only the seeds: for arrivals after the start (join waves).
   */
  startMore(count: number, spreadMs = this.gossip.intervalMs): SimNode[] {
    const out: SimNode[] = [];
    for (let i = this.nodes.length; i < this.options.nodes && out.length < count; i++) {
      const at = this.now + Math.floor(this.random.next() * spreadMs);
      const node = this.createNode(i, at);
      this.nodes.push(node);
      this.byAddress.set(node.address, node);
      node.alive = false;
      node.started = false;
      this.queue.schedule(at, () => {
        node.started = true;
        if (node.run !== 0) return;
        node.alive = true;
        this.scheduleTick(node, at);
      });
      out.push(node);
    }
    return out;
  }

  private createNode(index: number, generation: number): SimNode {
    const id = Simulation.id(index);
    const address = Simulation.address(index);
    const liveness = new PeerLiveness(this.failureDetector);
    const node: SimNode = {
      index,
      id,
      address,
      core: undefined as unknown as GossipNode,
      liveness,
      alive: true,
      started: true,
      group: 0,
      bytesSent: 0,
      msgsSent: 0,
      run: 0,
    };
    node.core = new GossipNode({
      id,
      address,
      generation,
      seeds: this.seeds,
      options: this.gossip,
      liveness,
      random: new SeededRandom(this.random.nextUint32()),
      listener: {
        event: (event, now) => {
          for (const hook of this.eventHooks) hook(node, event, now);
        },
        change: (change, now) => {
          for (const hook of this.changeHooks) hook(node, change, now);
        },
        notice: (_level, message) => {
          if (this.notices.length < 1000) this.notices.push(`${id}: ${message}`);
        },
      },
    });
    return node;
  }

  private scheduleTick(node: SimNode, at: number): void {
    const run = node.run;
    this.queue.schedule(at, () => {
      if (!node.alive || node.run !== run) return;
      this.send(node, node.core.tick(this.now));
      this.scheduleTick(node, at + this.gossip.intervalMs);
    });
  }

  private send(from: SimNode, out: Outgoing[]): void {
    for (const message of out) {
      from.bytesSent += message.bytes.length;
      from.msgsSent++;
      const to = this.byAddress.get(message.to);
      if (
        !to ||
        to.group !== from.group ||
        (this.blocked.size > 0 && this.blocked.has(`${from.index}>${to.index}`)) ||
        (this.loss > 0 && this.random.next() < this.loss)
      ) {
        this.messagesDropped++;
        continue;
      }
      const delay = this.latencyMs + (this.jitterMs > 0 ? this.random.next() * this.jitterMs : 0);
      this.queue.schedule(this.now + delay, () => {
        if (!to.alive || to.group !== from.group) {
          this.messagesDropped++;
          return;
        }
        this.send(to, to.core.receive(from.address, message.bytes, this.now));
      });
    }
  }

  /** Runs the clock to `time`. */
  runUntil(time: number): void {
    while (this.queue.peekTime() <= time) {
      this.now = this.queue.peekTime();
      this.queue.pop()!();
    }
    this.now = time;
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms);
  }

  /** Runs until `done()` holds (checked every `everyMs`), at most `maxMs`; returns the time it took, or null. */
  runUntilTrue(done: () => boolean, everyMs: number, maxMs: number): number | null {
    const start = this.now;
    while (this.now - start < maxMs) {
      if (done()) return this.now - start;
      this.runFor(everyMs);
    }
    return done() ? this.now - start : null;
  }

  /** Schedules `fn` at `time` on the virtual clock. */
  at(time: number, fn: () => void): void {
    this.queue.schedule(time, fn);
  }

  /** Stops a node without a word (a crash). */
  crash(node: SimNode): void {
    node.alive = false;
    node.run++;
    node.core.stop();
  }

  /** Starts a crashed node again: same id and address, a new generation, empty memory. */
  restart(node: SimNode): void {
    const fresh = this.createNode(node.index, Math.floor(this.now));
    node.core = fresh.core;
    node.liveness = fresh.liveness;
    node.alive = true;
    node.run++;
    this.scheduleTick(node, this.now);
  }

  /** Puts each node in the group `groupOf(index)`; nodes of different groups cannot talk. */
  partition(groupOf: (index: number) => number): void {
    for (const node of this.nodes) node.group = groupOf(node.index);
  }

  /** Cuts one direction only: messages from `from` no longer reach `to`. */
  block(from: SimNode, to: SimNode): void {
    this.blocked.add(`${from.index}>${to.index}`);
  }

  unblock(from: SimNode, to: SimNode): void {
    this.blocked.delete(`${from.index}>${to.index}`);
  }

  heal(): void {
    for (const node of this.nodes) node.group = 0;
  }

  liveNodes(): SimNode[] {
    return this.nodes.filter((node) => node.alive);
  }

  resetCounters(): void {
    for (const node of this.nodes) {
      node.bytesSent = 0;
      node.msgsSent = 0;
    }
  }

  /** Every live node sees exactly the live nodes, all `up`, each with one agreed generation, and nothing else. */
  trueMembership(): boolean {
    const live = this.liveNodes();
    if (live.length === 0 || this.nodes.some((node) => !node.started)) return false;
    const generations = new Map(live.map((node) => [node.id, node.core.generation]));
    for (const observer of live) {
      if (observer.core.size !== live.length) return false;
      for (const [id, generation] of generations) {
        if (id === observer.id) continue;
        if (observer.core.statusOf(id) !== 'up' || observer.core.generationOf(id) !== generation) return false;
      }
    }
    return true;
  }

  /** A canonical rendering of what `node` believes, heartbeats aside (they never stop moving). */
  view(node: SimNode): string {
    return node.core
      .members()
      .map(
        (m) =>
          `${m.id}@${m.generation}:${m.id === node.id ? 'self' : m.status}:${JSON.stringify(Object.entries(m.state).sort())}`,
      )
      .sort()
      .join('|');
  }

  /** Whether every live node holds the same view (self rendered alike) and sees every live node up. */
  identicalViews(): boolean {
    const live = this.liveNodes();
    if (!this.trueMembership()) return false;
    const views = live.map((node) => this.view(node).replace(/:self:/, ':up:'));
    return views.every((view) => view === views[0]);
  }
}
