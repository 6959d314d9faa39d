import { describe, expect, it } from '@jest/globals';
import { SeededRandom } from '../common/random.js';
import { DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP } from '../options/defaults.js';
import type { BootstrapOptions } from './first-start.js';
import { GossipNode, type Outgoing } from './gossip-node.js';
import { PeerLiveness } from './peer-liveness.js';

const T0 = 1_700_000_000_000;
const STEP = DEFAULT_GOSSIP.intervalMs;
const address = (i: number) => `10.0.0.${i}:7000`;

/** Gossip cores on a virtual clock, every message delivered within its round (breadth first). */
class Lab {
  readonly nodes = new Map<string, GossipNode>();
  now = T0;
  /** Rounds at which each node first went up. */
  readonly upAt = new Map<string, number>();
  round = 0;

  add(i: number, config: { bootstrap?: BootstrapOptions; seeds?: string[]; seedsPending?: boolean }): GossipNode {
    const node = new GossipNode({
      id: `n${i}`,
      address: address(i),
      generation: T0 + i,
      seeds: config.seeds ?? [],
      seedsPending: config.seedsPending,
      bootstrap: config.bootstrap,
      options: DEFAULT_GOSSIP,
      random: new SeededRandom(100 + i),
      liveness: new PeerLiveness(DEFAULT_FAILURE_DETECTOR),
    });
    this.nodes.set(address(i), node);
    return node;
  }

  run(rounds: number): void {
    for (let r = 0; r < rounds; r++) {
      this.round++;
      this.now += STEP;
      const queue: { from: string; out: Outgoing }[] = [];
      for (const [from, node] of this.nodes) for (const out of node.tick(this.now)) queue.push({ from, out });
      while (queue.length > 0) {
        const { from, out } = queue.shift()!;
        const to = this.nodes.get(out.to);
        if (!to) continue; // nobody there: a lost message
        for (const reply of to.receive(from, out.bytes, this.now)) queue.push({ from: out.to, out: reply });
      }
      for (const node of this.nodes.values())
        if (node.member(node.id)!.status === 'up' && !this.upAt.has(node.id)) this.upAt.set(node.id, this.round);
    }
  }

  statuses(): string[] {
    return [...this.nodes.values()].map((n) => n.member(n.id)!.status);
  }

  /** Every node sees every other, all up: one cluster. */
  oneCluster(): boolean {
    const all = [...this.nodes.values()];
    return all.every((n) => all.every((m) => n.member(m.id)?.status === 'up'));
  }
}

const bootstrap: BootstrapOptions = { requiredContacts: 5, stableMarginMs: 3000 };

describe('a safe first start (seeds from discovery)', () => {
  it('five nodes each discovering all five, own address first, form one cluster founded by the lowest address', () => {
    const lab = new Lab();
    const all = [1, 2, 3, 4, 5].map(address);
    for (let i = 1; i <= 5; i++)
      lab.add(i, { bootstrap }).replaceSeeds([address(i), ...all.filter((a) => a !== address(i))]);
    lab.run(30);
    expect(lab.oneCluster()).toBe(true);
    // n1 founded after the stable margin; the others joined it once they heard (none before it).
    const founder = lab.upAt.get('n1')!;
    expect(founder).toBeGreaterThanOrEqual(bootstrap.stableMarginMs / STEP);
    for (const id of ['n2', 'n3', 'n4', 'n5']) expect(lab.upAt.get(id)!).toBeGreaterThanOrEqual(founder);
  });

  it('nobody founds before the required number of contacts were heard from', () => {
    const lab = new Lab();
    const two = [address(1), address(2)];
    for (const i of [1, 2]) lab.add(i, { bootstrap }).replaceSeeds(two);
    lab.run(60);
    expect(lab.statuses()).toEqual(['joining', 'joining']);
    // A third... fifth node appear in discovery: now the founder founds, and all join.
    const all = [1, 2, 3, 4, 5].map(address);
    for (const i of [3, 4, 5]) lab.add(i, { bootstrap }).replaceSeeds(all);
    for (const i of [1, 2]) lab.nodes.get(address(i))!.replaceSeeds(all);
    lab.run(30);
    expect(lab.oneCluster()).toBe(true);
  });

  it('a node with nothing discovered yet (DNS down) keeps waiting, and joins once its seeds are found', () => {
    const lab = new Lab();
    const n1 = lab.add(1, { bootstrap: { ...bootstrap, requiredContacts: 1 } });
    lab.run(120);
    expect(n1.member('n1')!.status).toBe('joining');
    n1.replaceSeeds([address(1)]);
    lab.run(10);
    expect(n1.member('n1')!.status).toBe('up');
  });

  it('a node that reaches an existing cluster joins it, whoever has the lowest address', () => {
    const lab = new Lab();
    // n2 and n3 are a cluster already (static seeds); n1, the lowest address, starts later with a DNS seed.
    lab.add(2, { seeds: [address(2)] });
    lab.add(3, { seeds: [address(2)] });
    lab.run(5);
    const n1 = lab.add(1, { bootstrap });
    n1.replaceSeeds([address(1), address(2), address(3)]);
    lab.run(10);
    expect(lab.oneCluster()).toBe(true);
    expect(lab.upAt.get('n1')!).toBeLessThan(5 + bootstrap.stableMarginMs / STEP);
  });

  it('the lowest discovered address never answering: nobody founds (a failure mode, documented)', () => {
    const lab = new Lab();
    const all = [1, 2, 3].map(address);
    for (const i of [2, 3]) lab.add(i, { bootstrap: { ...bootstrap, requiredContacts: 2 } }).replaceSeeds(all);
    lab.run(60);
    expect(lab.statuses()).toEqual(['joining', 'joining']);
  });
});

describe('static seeds that are names (looked up by the shell)', () => {
  it('are pending until looked up: not up alone before, up alone when they turn out to be only this node', () => {
    const lab = new Lab();
    const n1 = lab.add(1, { seedsPending: true });
    lab.run(10);
    expect(n1.member('n1')!.status).toBe('joining');
    n1.replaceSeeds([address(1)]);
    lab.run(1);
    expect(n1.member('n1')!.status).toBe('up');
  });

  it('an address found to be this node is never dialled again, even when discovery lists it again', () => {
    const lab = new Lab();
    const n1 = lab.add(1, { seedsPending: true });
    n1.forgetSeed('10.9.9.9:7000');
    n1.replaceSeeds(['10.9.9.9:7000', address(2)]);
    lab.add(2, { seeds: [address(2)] });
    const dialled = new Set<string>();
    for (let r = 0; r < 20; r++) for (const out of n1.tick(T0 + r * STEP)) dialled.add(out.to);
    expect(dialled.has('10.9.9.9:7000')).toBe(false);
    expect(dialled.has(address(2))).toBe(true);
  });
});
