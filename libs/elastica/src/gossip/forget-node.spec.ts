import { describe, expect, it } from '@jest/globals';
import { NodeNotDownError } from '../errors/node-not-down.error.js';
import { UnknownNodeError } from '../errors/elastica-error.js';
import { DEFAULT_GOSSIP } from '../options/defaults.js';
import type { GossipNode, Outgoing } from './gossip-node.js';
import { clusterNode, T0 } from './testing/gossip-cluster.js';

const INTERVAL = DEFAULT_GOSSIP.intervalMs;

/** Nodes on a lossless virtual network; a crashed node neither ticks nor receives. */
class Lab {
  readonly nodes = new Map<string, GossipNode>();
  readonly crashed = new Set<string>();
  now = T0 + 10;

  add(node: GossipNode): GossipNode {
    this.nodes.set(node.address, node);
    return node;
  }

  round(): void {
    this.now += INTERVAL;
    const queue: { from: string; out: Outgoing }[] = [];
    for (const [address, node] of this.nodes)
      if (!this.crashed.has(address)) for (const out of node.tick(this.now)) queue.push({ from: address, out });
    while (queue.length > 0) {
      const { from, out } = queue.shift()!;
      const to = this.nodes.get(out.to);
      if (!to || this.crashed.has(out.to)) continue;
      for (const reply of to.receive(from, out.bytes, this.now)) queue.push({ from: out.to, out: reply });
    }
  }

  rounds(n: number): void {
    for (let i = 0; i < n; i++) this.round();
  }

  live(): GossipNode[] {
    return [...this.nodes].filter(([a]) => !this.crashed.has(a)).map(([, n]) => n);
  }
}

function fourNodes(): { lab: Lab; nodes: GossipNode[] } {
  const lab = new Lab();
  const nodes = [0, 1, 2, 3].map((i) => lab.add(clusterNode(i, T0 + i, 65_000, 7 + i)));
  lab.rounds(40);
  for (const n of nodes) expect(n.members().filter((m) => m.status === 'up')).toHaveLength(4);
  return { lab, nodes };
}

describe('GossipNode.forget (removing a dead node by hand)', () => {
  it('refuses an up node, this node and a stranger with typed errors', () => {
    const { lab, nodes } = fourNodes();
    expect(() => nodes[0].forget('n1', lab.now)).toThrow(NodeNotDownError);
    expect(() => nodes[0].forget('n0', lab.now)).toThrow(NodeNotDownError);
    expect(() => nodes[0].forget('nobody', lab.now)).toThrow(UnknownNodeError);
    expect(nodes[0].members()).toHaveLength(4);
  });

  it('drops a down node everywhere within a few rounds, and a restart of it joins again', () => {
    const { lab, nodes } = fourNodes();
    lab.crashed.add(nodes[3].address);
    lab.rounds(30);
    expect(nodes[0].member('n3')!.status).toBe('down');
    nodes[0].forget('n3', lab.now);
    expect(nodes[0].member('n3')).toBeUndefined();
    let rounds = 0;
    while (nodes.slice(0, 3).some((n) => n.member('n3') !== undefined) && rounds < 20) {
      lab.round();
      rounds++;
    }
    for (const n of nodes.slice(0, 3)) expect(n.member('n3')).toBeUndefined();
    expect(rounds).toBeLessThanOrEqual(10);
    expect(nodes[1].stats.forgotten + nodes[2].stats.forgotten).toBe(2);
    // Old gossip cannot bring it back: another 20 rounds and nobody holds it.
    lab.rounds(20);
    for (const n of nodes.slice(0, 3)) expect(n.member('n3')).toBeUndefined();
    // Restarted: a higher generation, a new incarnation nobody forgot.
    lab.crashed.delete(nodes[3].address);
    const again = lab.add(clusterNode(3, lab.now, 65_000, 99));
    lab.rounds(40);
    for (const n of [...nodes.slice(0, 3), again]) expect(n.member('n3')?.status).toBe('up');
  });

  it('a forgotten node that was alive after all takes a new generation and is a member again', () => {
    const { lab, nodes } = fourNodes();
    // n3 is cut off long enough to be convicted, but keeps running.
    lab.crashed.add(nodes[3].address);
    lab.rounds(30);
    nodes[0].forget('n3', lab.now);
    lab.rounds(10);
    const generation = nodes[3].generation;
    lab.crashed.delete(nodes[3].address);
    lab.rounds(60);
    expect(nodes[3].generation).toBeGreaterThan(generation);
    for (const n of nodes) expect(n.member('n3')?.status).toBe('up');
  });
});
