// An in-memory stand-in for what converged gossip tells every node: one shared membership table.
// It lets the partitioner's Nest wiring be tested on several nodes without the gossip protocol; it
// models the contract's GossipService surface (members, set, get, events$, changes$), not its timing.
import { Subject } from 'rxjs';
import type { PartitionerMembership } from '../partitioner.service.js';

interface Entry {
  id: string;
  address: string;
  status: string;
  generation: number;
  heartbeat: number;
  state: Record<string, string>;
}

export class MembershipHub {
  private readonly entries = new Map<string, Entry>();
  private readonly events = new Subject<{ type: string; nodeId: string }>();
  private readonly changes = new Subject<{ nodeId: string; key: string; value: string; version: number }>();
  private version = 0;

  /** A node (re)starts: a higher generation replaces its state whole, as gossip does. */
  start(id: string, generation: number, status = 'up'): void {
    const restarted = this.entries.has(id);
    this.entries.set(id, { id, address: id, status, generation, heartbeat: 0, state: {} });
    this.events.next({ type: restarted ? 'restarted' : 'joined', nodeId: id });
  }

  setStatus(id: string, status: 'joining' | 'up' | 'down' | 'leaving' | 'left'): void {
    this.entries.get(id)!.status = status;
    this.events.next({ type: status === 'joining' ? 'joined' : status, nodeId: id });
  }

  /** Writes a node's state as if that node had published it. */
  set(id: string, key: string, value: string): void {
    this.entries.get(id)!.state[key] = value;
    this.changes.next({ nodeId: id, key, value, version: ++this.version });
  }

  view(localNodeId: string): PartitionerMembership & { get(nodeId: string, key: string): string | undefined } {
    return {
      localNodeId,
      members: () => [...this.entries.values()].map((e) => ({ ...e, state: { ...e.state } })),
      set: (key, value) => this.set(localNodeId, key, value),
      get: (nodeId, key) => this.entries.get(nodeId)?.state[key],
      events$: this.events.asObservable(),
      changes$: this.changes.asObservable(),
    };
  }
}
