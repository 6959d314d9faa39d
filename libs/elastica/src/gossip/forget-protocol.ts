import { UnknownNodeError } from '../errors/elastica-error.js';
import { NodeNotDownError } from '../errors/node-not-down.error.js';
import type { GossipOptions } from '../options/elastica-options.js';
import type { EndpointState } from './endpoint-state.js';
import type { GossipStats } from './gossip-stats.js';
import type { GossipListener } from './gossip.types.js';
import { decodeForgotten, encodeForgotten, FORGOTTEN_KEY, MAX_FORGOTTEN } from './forgotten.js';
import type { MembershipEvents } from './membership-events.js';
import type { MembershipTable } from './membership-table.js';
import type { OwnIncarnation } from './own-incarnation.js';

/**
 * Removing a dead node by hand (GossipNode.forget), as `nodetool removenode` or `serf force-leave` do:
 * the forgetting node drops the incarnation and names it under FORGOTTEN_KEY in its own state; every
 * node that hears of it drops it too (docs/ARCHITECTURE.md, Gossip › Forgetting a node).
 */
export class ForgetProtocol {
  constructor(
    private readonly options: GossipOptions,
    private readonly table: MembershipTable,
    private readonly own: OwnIncarnation,
    private readonly stats: GossipStats,
    private readonly listener: GossipListener,
    private readonly events: MembershipEvents,
    /** Drops an incarnation from the table and the detector, refusing it until `until`. */
    private readonly drop: (endpoint: EndpointState, until: number) => void,
  ) {}

  /** Forgets `nodeId`, which must be down here. Throws UnknownNodeError or NodeNotDownError. */
  forget(nodeId: string, nowMs: number): void {
    const endpoint = this.table.get(nodeId);
    const self = this.own.current;
    if (!endpoint) throw new UnknownNodeError(nodeId);
    if (endpoint === self || endpoint.status !== 'down')
      throw new NodeNotDownError(nodeId, endpoint === self ? 'this node' : endpoint.status);
    const before = self.keys.get(FORGOTTEN_KEY)?.value ?? '';
    const others = decodeForgotten(before).filter((ref) => ref !== endpoint.ref);
    this.own.write(FORGOTTEN_KEY, encodeForgotten([endpoint.ref, ...others].slice(0, MAX_FORGOTTEN)), nowMs);
    this.forgetIncarnation(endpoint, nowMs);
  }

  /** `owner` says it forgot these incarnations: drop them here too, or refute it if this node is one of them. */
  hear(owner: EndpointState, value: string, nowMs: number): void {
    let refs: number[];
    try {
      refs = decodeForgotten(value);
    } catch (error) {
      this.stats.refusedForgotten++;
      this.listener.notice?.('warn', `forgotten nodes from ${owner.id} refused: ${(error as Error).message}`);
      return;
    }
    const self = this.own.current;
    for (const ref of refs) {
      if (ref === self.ref) {
        // Alive after all (a partition, a long pause): a new run of it, which nobody has forgotten.
        this.own.refute(self.generation, nowMs, `node ${owner.id} forgot this node`);
        continue;
      }
      const endpoint = this.table.byRef(ref);
      if (endpoint) this.forgetIncarnation(endpoint, nowMs);
      else this.table.refuse(ref, 'forgotten', nowMs + this.options.downExpiryMs);
    }
  }

  private forgetIncarnation(endpoint: EndpointState, nowMs: number): void {
    this.drop(endpoint, nowMs + this.options.downExpiryMs);
    this.stats.forgotten++;
    this.listener.notice?.('log', `node ${endpoint.id} (generation ${endpoint.generation}) forgotten`);
    this.events.emit('forgotten', endpoint.id, nowMs);
  }
}
