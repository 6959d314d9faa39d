import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AdminService } from 'elastica';
import { ElasticaCluster } from '../cluster/elastica-cluster.js';
import { DECOMMISSION_STARTED, requestDecommission } from '../kv/decommission-request.js';
import { KvStoreService } from '../kv/kv-store.service.js';
import { Shutdown } from '../lifecycle/shutdown.js';

/** `npx elastica leave` decommissions this node as `POST /admin/leave` does: data first, then the departure. */
@Injectable()
export class CliLeave implements OnApplicationBootstrap {
  private readonly logger = new Logger('kv-store');

  constructor(
    private readonly admin: AdminService,
    private readonly store: KvStoreService,
    private readonly cluster: ElasticaCluster,
    private readonly shutdown: Shutdown,
  ) {}

  onApplicationBootstrap(): void {
    this.admin.setLeaveHandler(() => {
      const refused = requestDecommission(
        {
          store: this.store,
          cluster: this.cluster,
          shutdown: this.shutdown,
          log: (level, message) => this.logger[level](message),
        },
        'by an admin client',
      );
      if (refused !== undefined) throw new Error(refused);
      return { message: DECOMMISSION_STARTED };
    });
  }
}
