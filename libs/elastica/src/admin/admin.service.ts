import { Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { FailureDetectorService } from '../failure-detector/failure-detector.service.js';
import { GossipService } from '../gossip/gossip.service.js';
import { PartitionerService } from '../ring/partitioner.service.js';
import { LOAD_KEY } from '../ring/token-codec.js';
import { TOKEN_SPACE } from '../ring/hash.js';
import type { RpcCall } from '../transport/inbound-call.js';
import { TransportService } from '../transport/transport.service.js';
import { ADMIN_COMMANDS, type AdminCommand, type AdminStatus } from './admin.types.js';

/**
 * What the `elastica` CLI asks of a node over its cluster port (an admin connection, see Hello.role):
 * status, ring, gossipinfo, leave, forget. Answers come from this node's own view.
 */
@Injectable()
export class AdminService implements OnApplicationBootstrap, OnModuleDestroy {
  private leaveHandler: (() => unknown) | undefined;

  constructor(
    private readonly transport: TransportService,
    private readonly gossip: GossipService,
    private readonly detector: FailureDetectorService,
    private readonly partitioner: PartitionerService,
  ) {}

  /**
   * What `elastica leave` does in this app: by default `GossipService.leave()` (announce and go); an app
   * that holds data registers its own decommission here (hand the data over, then leave), as the
   * example app does. The handler's return value, if any, is sent back to the CLI; a throw refuses.
   */
  setLeaveHandler(handler: (() => unknown) | undefined): void {
    this.leaveHandler = handler;
  }

  onApplicationBootstrap(): void {
    this.transport.setAdminHandler((call) => void this.serve(call));
  }

  onModuleDestroy(): void {
    this.transport.setAdminHandler(undefined);
  }

  private async serve(call: RpcCall): Promise<void> {
    try {
      const command = call.pattern as AdminCommand;
      if (!ADMIN_COMMANDS.includes(command))
        throw new Error(`unknown admin command ${JSON.stringify(call.pattern)} (one of ${ADMIN_COMMANDS.join(', ')})`);
      call.reply(await this.run(command, call.data));
    } catch (error) {
      call.error({ message: (error as Error).message, name: (error as Error).name });
    }
  }

  private async run(command: AdminCommand, data: unknown): Promise<unknown> {
    switch (command) {
      case 'status':
        return this.status();
      case 'ring':
        return this.ring();
      case 'gossipinfo':
        return { self: this.gossip.localNodeId, members: this.gossip.members() };
      case 'leave':
        if (this.leaveHandler) return { leaving: this.gossip.localNodeId, answer: (await this.leaveHandler()) ?? null };
        await this.gossip.leave();
        return { left: this.gossip.localNodeId };
      case 'forget': {
        const nodeId = (data as { nodeId?: unknown } | null)?.nodeId;
        if (typeof nodeId !== 'string' || nodeId === '') throw new Error('forget needs a node id');
        await this.gossip.forget(nodeId);
        return { forgotten: nodeId };
      }
    }
  }

  status(): AdminStatus {
    const self = this.gossip.localNodeId;
    let ownership: Record<string, number> = {};
    try {
      ownership = this.partitioner.ownership();
    } catch {
      // no ring yet: nobody owns anything
    }
    return {
      self,
      members: this.gossip.members().map((m) => {
        const load = m.state[LOAD_KEY] === undefined ? null : Number(m.state[LOAD_KEY]);
        const phi = m.id === self ? 0 : this.detector.phi(m.id);
        return {
          id: m.id,
          address: m.address,
          status: m.status,
          ownership: ownership[m.id] ?? 0,
          load: load !== null && Number.isFinite(load) ? load : null,
          version: m.version ?? null,
          phi: Number.isFinite(phi) ? phi : null,
          generation: m.generation,
        };
      }),
    };
  }

  private ring(): unknown {
    const ranges: Record<string, [number, number][]> = {};
    for (const m of this.gossip.members()) {
      const owned = this.partitioner.getRanges(m.id);
      if (owned.length > 0) ranges[m.id] = owned.map((r) => [r.start / TOKEN_SPACE, r.end / TOKEN_SPACE]);
    }
    return {
      self: this.gossip.localNodeId,
      version: this.partitioner.version,
      checksum: this.partitioner.checksum,
      ready: this.partitioner.isReady,
      ownership: this.partitioner.ownership(),
      ranges,
    };
  }
}
