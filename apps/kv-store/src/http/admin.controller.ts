import {
  All,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Logger,
  NotFoundException,
  Param,
  Post,
  Req,
  Res,
} from '@nestjs/common';
import type { IncomingMessage as Request, ServerResponse as Response } from 'node:http';
import { ElasticaCluster } from '../cluster/elastica-cluster.js';
import { DECOMMISSION_STARTED, requestDecommission } from '../kv/decommission-request.js';
import { KvStoreService } from '../kv/kv-store.service.js';
import { Shutdown } from '../lifecycle/shutdown.js';
import { checkKey, KV_GET } from '../replication/kv-messages.js';
import { MethodNotAllowedException, toHttpError } from './http-errors.js';
import { HttpLimits } from './http-limits.js';

/** Operating the node: decommission, and looking inside (what this very node holds, where a key lives). */
@Controller('admin')
export class AdminController {
  private readonly logger = new Logger('kv-store');

  constructor(
    private readonly store: KvStoreService,
    private readonly cluster: ElasticaCluster,
    private readonly shutdown: Shutdown,
    private readonly limits: HttpLimits,
  ) {}

  /**
   * Answers at once (202); the node then hands its data over, leaves the cluster and exits (code 0; 1 if
   * writes that arrived while it left could not all be handed over). A handoff that cannot complete
   * before the departure aborts the decommission: the node stays, and this may be asked again.
   */
  @Post('leave')
  @HttpCode(202)
  leave(): { node: string; status: string; message: string } {
    const refused = requestDecommission(
      {
        store: this.store,
        cluster: this.cluster,
        shutdown: this.shutdown,
        log: (level, message) => this.logger[level](message),
      },
      'over HTTP',
    );
    if (refused !== undefined) throw new ConflictException(refused);
    return { node: this.cluster.self, status: 'leaving', message: DECOMMISSION_STARTED };
  }

  @All('leave')
  leaveOtherMethod(@Req() req: Request, @Res({ passthrough: true }) res: Response): never {
    res.setHeader('Allow', 'POST');
    throw new MethodNotAllowedException(req.method ?? '?', '/admin/leave', ['POST']);
  }

  @Get('stats')
  stats() {
    return {
      node: this.cluster.self,
      decommissioning: this.store.isDecommissioning,
      lastDecommission: this.store.lastDecommission ?? null,
      storage: this.store.node.storage.kind,
      capacity: this.store.node.storage.capacity,
      ...this.store.node.stats(),
      http: this.limits.stats(),
    };
  }

  /** This node's own copy of a key (no quorum): what it stores, tombstones included. */
  @Get('local/:key')
  local(@Param('key') rawKey: string) {
    const key = this.checked(rawKey);
    const v = this.store.node.storage.get(key);
    if (v === undefined)
      throw new NotFoundException(`node ${this.cluster.self} holds no copy of ${JSON.stringify(key)}`);
    return { node: this.cluster.self, key, value: v.value, ts: v.ts };
  }

  /** The key's replicas on the ring as this node sees it. */
  @Get('replicas/:key')
  replicas(@Param('key') rawKey: string) {
    const key = this.checked(rawKey);
    return { key, replicas: this.cluster.replicasOf(key) };
  }

  private checked(key: string): string {
    try {
      return checkKey(KV_GET, key, this.store.node.options);
    } catch (error) {
      throw toHttpError(error);
    }
  }
}
