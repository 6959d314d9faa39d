import { describe, expect, it } from '@jest/globals';
import { SeededRandom } from '../common/random.js';
import { DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP } from '../options/defaults.js';
import { firstContactTimeoutMs } from './epidemic.js';
import { GossipNode, type Outgoing } from './gossip-node.js';
import type { MembershipEventType } from './gossip.types.js';
import { PeerLiveness } from './peer-liveness.js';
import { T0 } from './testing/gossip-cluster.js';

interface Heard {
  at: number;
  observer: string;
  type: MembershipEventType;
  nodeId: string;
}

/**
 * Five cores on a virtual clock, as processes run them: each ticks once a second at its own offset,
 * messages take 5 ms, a killed node neither sends nor receives, and links may be cut one way.
 */
class VirtualCluster {
  readonly nodes: GossipNode[] = [];
  readonly heard: Heard[] = [];
  /** "from>to" addresses whose messages are lost. */
  readonly cut = new Set<string>();
  now = T0 + 10;
  private readonly dead = new Set<string>();
  private inFlight: { at: number; from: string; to: string; bytes: Uint8Array }[] = [];

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.nodes.push(this.make(i, T0 + i));
  }

  kill(i: number): void {
    this.nodes[i].stop();
    this.dead.add(this.nodes[i].address);
  }

  /** The same id and address, a new generation, nothing remembered. */
  restart(i: number): GossipNode {
    this.nodes[i] = this.make(i, this.now);
    this.dead.delete(this.nodes[i].address);
    return this.nodes[i];
  }

  run(ms: number): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += 5;
      for (const [i, node] of this.nodes.entries())
        if ((this.now - i * 170) % 1000 === 0) this.send(node.address, node.tick(this.now));
      const due = this.inFlight.filter((m) => m.at <= this.now);
      this.inFlight = this.inFlight.filter((m) => m.at > this.now);
      for (const m of due) {
        if (this.dead.has(m.to) || this.dead.has(m.from) || this.cut.has(`${m.from}>${m.to}`)) continue;
        const to = this.nodes.find((n) => n.address === m.to)!;
        this.send(to.address, to.receive(m.from, m.bytes, this.now));
      }
    }
  }

  /** What every other node says of `id`. */
  statusesOf(id: string): (string | undefined)[] {
    return this.nodes.filter((n) => n.id !== id).map((n) => n.statusOf(id));
  }

  /** The events about `id` that the others reported since `since`, as "observer type". */
  heardOf(id: string, since: number): string[] {
    return this.heard
      .filter((e) => e.nodeId === id && e.observer !== id && e.at >= since)
      .map((e) => `${e.observer} ${e.type}`);
  }

  private make(i: number, generation: number): GossipNode {
    return new GossipNode({
      id: `n${i}`,
      address: `10.0.0.${i}:7000`,
      generation,
      seeds: ['10.0.0.0:7000', '10.0.0.1:7000'],
      options: { ...DEFAULT_GOSSIP, mtuBytes: 4096 },
      random: new SeededRandom(1000 * i + (generation % 1000)),
      liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
      listener: { event: (e, at) => this.heard.push({ at, observer: `n${i}`, type: e.type, nodeId: e.nodeId }) },
    });
  }

  private send(from: string, out: Outgoing[]): void {
    for (const o of out) this.inFlight.push({ at: this.now + 5, from, to: o.to, bytes: o.bytes });
  }
}

const VICTIM = 3;
const ID = `n${VICTIM}`;
/** The first-contact timeout of a 5-node cluster at the default interval. */
const FIRST_CONTACT_MS = firstContactTimeoutMs(DEFAULT_GOSSIP.intervalMs, 5);

/** A converged cluster of five: everyone up everywhere, out of probation (40 rounds). */
function converged(): VirtualCluster {
  const c = new VirtualCluster(5);
  c.run(40_000);
  for (const node of c.nodes) expect(c.statusesOf(node.id)).toEqual(['up', 'up', 'up', 'up']);
  return c;
}

describe('a restarted node (same id, new generation), as its peers see it', () => {
  it('restarted before its peers convicted the killed run: `restarted`, never `down`', () => {
    // The durable chaos scenario's order: the new run is learned from third parties while the old one
    // is still up. It used to be marked down until it answered: `down (phi 0.0)`, then `up`.
    const c = converged();
    const killedAt = c.now;
    c.kill(VICTIM);
    c.run(2000);
    const fresh = c.restart(VICTIM);
    c.run(30_000);
    expect(c.heardOf(ID, killedAt).sort()).toEqual(['n0 restarted', 'n1 restarted', 'n2 restarted', 'n4 restarted']);
    expect(c.statusesOf(ID)).toEqual(['up', 'up', 'up', 'up']);
    for (const node of c.nodes) expect(node.generationOf(ID)).toBe(fresh.generation);
  });

  it('restarted after its peers convicted the killed run: `restarted`, then `up`, never `down` again', () => {
    const c = converged();
    c.kill(VICTIM);
    c.run(30_000);
    expect(c.statusesOf(ID)).toEqual(['down', 'down', 'down', 'down']);
    const restartedAt = c.now;
    c.restart(VICTIM);
    c.run(30_000);
    const heard = c.heardOf(ID, restartedAt);
    expect(heard.filter((e) => e.endsWith('down'))).toEqual([]);
    for (const observer of ['n0', 'n1', 'n2', 'n4'])
      expect(heard.filter((e) => e.startsWith(`${observer} `))).toEqual([`${observer} restarted`, `${observer} up`]);
    expect(c.statusesOf(ID)).toEqual(['up', 'up', 'up', 'up']);
  });

  it('a new run that dies at once is convicted everywhere within a first-contact timeout, and stays down', () => {
    const c = converged();
    c.kill(VICTIM);
    c.run(1000);
    c.restart(VICTIM);
    // One round: its first exchange with a seed, which spreads the news of it; then it dies.
    c.run(1000);
    const diedAt = c.now;
    c.kill(VICTIM);
    c.run(FIRST_CONTACT_MS + 2000);
    expect(c.statusesOf(ID)).toEqual(['down', 'down', 'down', 'down']);
    const downs = c.heard.filter((e) => e.nodeId === ID && e.type === 'down' && e.at >= diedAt);
    expect(downs.map((e) => e.observer).sort()).toEqual(['n0', 'n1', 'n2', 'n4']);
    c.run(30_000);
    expect(c.statusesOf(ID)).toEqual(['down', 'down', 'down', 'down']);
  });

  it('runs restarting in a loop, none heard by a peer itself, do not each start its wait over', () => {
    const c = converged();
    c.cut.add(`${c.nodes[VICTIM].address}>${c.nodes[4].address}`);
    const loopStart = c.now;
    for (let run = 0; run < 8; run++) {
      c.kill(VICTIM);
      c.run(1000);
      c.restart(VICTIM);
      c.run(1000);
    }
    // Every run came within the first-contact timeout of the one before: were each run's wait its
    // own, n4 would take the node as live on others' word for as long as the loop lasts.
    expect(c.now - loopStart).toBeGreaterThan(FIRST_CONTACT_MS + 5000);
    expect(c.nodes[4].statusOf(ID)).toBe('down');
    expect(c.statusesOf(ID)).toEqual(['up', 'up', 'up', 'down']);
  });

  it('a new run a peer never hears from itself (one-way cut) is down there after a first-contact timeout, up once heard', () => {
    const c = converged();
    const [victim, observer] = [c.nodes[VICTIM].address, c.nodes[4].address];
    c.kill(VICTIM);
    c.run(1000);
    c.cut.add(`${victim}>${observer}`);
    c.restart(VICTIM);
    c.run(FIRST_CONTACT_MS + 2000);
    // The others relay its heartbeats to n4 all along; only its own word could make it up there.
    expect(c.nodes[4].generationOf(ID)).toBe(c.nodes[VICTIM].generation);
    expect(c.nodes[4].statusOf(ID)).toBe('down');
    c.run(20_000);
    expect(c.nodes[4].statusOf(ID)).toBe('down');
    expect(c.statusesOf(ID)).toEqual(['up', 'up', 'up', 'down']);
    c.cut.clear();
    c.run(3000);
    expect(c.statusesOf(ID)).toEqual(['up', 'up', 'up', 'up']);
  });
});
