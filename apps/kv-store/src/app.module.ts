import { Logger, Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ElasticaModule } from 'elastica';
import { ElasticaMetricsModule } from 'elastica/prometheus';
import { ElasticaHealthIndicator } from 'elastica/terminus';
import { ClusterPeerCaller } from './cluster/cluster-peer-caller.js';
import { ElasticaCluster } from './cluster/elastica-cluster.js';
import { elasticaOptionsOf, type NodeConfig } from './config/node-config.js';
import { ClusterMonitorService } from './dashboard/cluster-monitor.service.js';
import { DashboardController } from './dashboard/dashboard.controller.js';
import { AdminController } from './http/admin.controller.js';
import { HttpLimits } from './http/http-limits.js';
import { KvController } from './http/kv.controller.js';
import { DEFAULT_KV_STORE_OPTIONS, KV_STORE_OPTIONS, STORAGE_ENGINE, type KvStoreOptions } from './kv/kv-options.js';
import { KvStoreService } from './kv/kv-store.service.js';
import { Shutdown } from './lifecycle/shutdown.js';
import { CliLeave } from './ops/cli-leave.js';
import { HealthController } from './ops/health.controller.js';
import { MetricsController } from './ops/metrics.controller.js';
import { KvPeerController } from './peer/kv-peer.controller.js';
import { MemoryStorageEngine } from './store/memory-engine.js';
import type { StorageEngine } from './store/storage-engine.js';

@Module({})
export class AppModule {
  /** `storage` is the node's opened data directory (see openDataDir); without one, its data lives in memory. */
  static register(
    config: NodeConfig,
    store: KvStoreOptions = DEFAULT_KV_STORE_OPTIONS,
    storage?: { engine: StorageEngine; restoreTokens?: readonly number[] },
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ElasticaModule.forRoot(elasticaOptionsOf(config, storage?.restoreTokens)),
        TerminusModule.forRoot({ logger: false }),
        ElasticaMetricsModule.forRoot(),
      ],
      controllers: [
        KvController,
        AdminController,
        DashboardController,
        KvPeerController,
        HealthController,
        MetricsController,
      ],
      providers: [
        { provide: KV_STORE_OPTIONS, useValue: store },
        { provide: STORAGE_ENGINE, useFactory: () => storage?.engine ?? new MemoryStorageEngine(store.node.storage) },
        {
          provide: HttpLimits,
          useFactory: () => new HttpLimits(store.http, (message) => new Logger('kv-store').warn(message)),
        },
        ElasticaCluster,
        ElasticaHealthIndicator,
        ClusterPeerCaller,
        KvStoreService,
        ClusterMonitorService,
        Shutdown,
        CliLeave,
      ],
    };
  }
}
