import { Module, type Provider } from '@nestjs/common';
import { systemClock } from '../common/clock.js';
import type { LocalNode } from '../common/local-node.js';
import { CLOCK, ELASTICA_OPTIONS, GOSSIP_CHANNEL, LOCAL_NODE } from '../elastica.constants.js';
import { FailureDetectorService } from '../failure-detector/failure-detector.service.js';
import { GossipService } from '../gossip/gossip.service.js';
import { TransportService } from '../transport/transport.service.js';
import { ElasticaTransport } from '../rpc/elastica-transport.js';
import { NodeResolver } from '../client/node-resolver.js';
import { ClusterClient } from '../client/cluster-client.js';
import { PartitionerService } from '../ring/partitioner.service.js';
import { ShutdownService } from '../shutdown/shutdown.service.js';
import { AdminService } from '../admin/admin.service.js';
import type { ElasticaOptions, ResolvedElasticaOptions } from '../options/elastica-options.js';
import { resolveOptions } from '../options/resolve-options.js';
import { ElasticaConfigurableModule, ELASTICA_RAW_OPTIONS } from './elastica.module-definition.js';

const providers: Provider[] = [
  // Both forRoot and forRootAsync land here, so a bad option fails the same way whichever was used.
  {
    provide: ELASTICA_OPTIONS,
    useFactory: (raw: ElasticaOptions) => resolveOptions(raw),
    inject: [ELASTICA_RAW_OPTIONS],
  },
  { provide: CLOCK, useValue: systemClock },
  {
    provide: LOCAL_NODE,
    useFactory: (options: ResolvedElasticaOptions): LocalNode => ({
      id: options.nodeId,
      address: options.advertise,
      generation: Date.now(),
    }),
    inject: [ELASTICA_OPTIONS],
  },
  FailureDetectorService,
  GossipService,
  TransportService,
  { provide: GOSSIP_CHANNEL, useExisting: TransportService },
  ElasticaTransport,
  NodeResolver,
  ClusterClient,
  PartitionerService,
  ShutdownService,
  AdminService,
];

/**
 * `ElasticaModule.forRoot(options)` / `forRootAsync({ imports, inject, useFactory })`: one cluster node
 * per application, with its services exported (global unless `isGlobal: false`).
 */
@Module({
  providers,
  exports: [
    ELASTICA_OPTIONS,
    LOCAL_NODE,
    CLOCK,
    FailureDetectorService,
    GossipService,
    TransportService,
    GOSSIP_CHANNEL,
    ElasticaTransport,
    ClusterClient,
    PartitionerService,
    ShutdownService,
    AdminService,
  ],
})
export class ElasticaModule extends ElasticaConfigurableModule {}
