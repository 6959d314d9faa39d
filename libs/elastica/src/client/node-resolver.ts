import { Inject, Injectable } from '@nestjs/common';
import type { LocalNode } from '../common/local-node.js';
import { LOCAL_NODE } from '../elastica.constants.js';
import { NodeUnavailableError, UnknownNodeError } from '../errors/elastica-error.js';
import { GossipService } from '../gossip/gossip.service.js';
import { TransportService } from '../transport/transport.service.js';

export type ResolvedNode = { local: true; nodeId: string } | { local: false; nodeId: string; address: string };

/** Statuses a call may still be sent to; `down` and `left` fail fast. */
const REACHABLE = new Set(['joining', 'up', 'leaving']);

/**
 * Where a node id lives: membership (gossip) first, for its address and status; else a connection
 * whose handshake named that node. The one seam between ClusterClient and membership.
 */
@Injectable()
export class NodeResolver {
  constructor(
    private readonly gossip: GossipService,
    private readonly transport: TransportService,
    @Inject(LOCAL_NODE) private readonly local: LocalNode,
  ) {}

  /** Throws UnknownNodeError or NodeUnavailableError at once. */
  resolve(nodeId: string): ResolvedNode {
    if (nodeId === this.local.id) return { local: true, nodeId };
    const member = this.gossip.member(nodeId);
    if (member) {
      if (!REACHABLE.has(member.status)) throw new NodeUnavailableError(nodeId, `its status is ${member.status}`);
      return { local: false, nodeId, address: member.address };
    }
    const address = this.transport.addressOf(nodeId);
    if (address === undefined) throw new UnknownNodeError(nodeId);
    return { local: false, nodeId, address };
  }

  /** Every node a broadcast should reach, this one included: live members, plus nodes connected to us. */
  liveNodeIds(): string[] {
    const ids = new Set<string>([this.local.id]);
    for (const m of this.gossip.members())
      if (m.status === 'up' || m.status === 'joining' || m.status === 'leaving') ids.add(m.id);
    for (const id of this.transport.connectedNodeIds()) {
      const member = this.gossip.member(id);
      if (!member || REACHABLE.has(member.status)) ids.add(id);
    }
    return [...ids];
  }
}
