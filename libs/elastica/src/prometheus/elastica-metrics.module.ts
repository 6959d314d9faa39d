import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ClusterClient } from '../client/cluster-client.js';
import { FailureDetectorService } from '../failure-detector/failure-detector.service.js';
import { GossipService } from '../gossip/gossip.service.js';
import { PartitionerService } from '../ring/partitioner.service.js';
import { TransportService } from '../transport/transport.service.js';
import { ElasticaMetrics, type ElasticaMetricsOptions } from './elastica-metrics.js';

const METRICS_OPTIONS = Symbol('ELASTICA_METRICS_OPTIONS');

/** Registers Elastica's metrics while the application runs, and removes them when it closes. */
@Injectable()
export class ElasticaMetricsService implements OnModuleInit, OnModuleDestroy {
  readonly metrics: ElasticaMetrics;

  constructor(
    @Inject(METRICS_OPTIONS) options: ElasticaMetricsOptions,
    gossip: GossipService,
    detector: FailureDetectorService,
    partitioner: PartitionerService,
    transport: TransportService,
    client: ClusterClient,
  ) {
    this.metrics = new ElasticaMetrics({ gossip, detector, partitioner, transport, client }, options);
  }

  onModuleInit(): void {
    this.metrics.register();
  }

  onModuleDestroy(): void {
    this.metrics.unregister();
  }
}

/**
 * `ElasticaMetricsModule.forRoot({ registry? })`: Elastica's metrics (names prefixed `elastica_`) in a
 * prom-client registry, the default one when omitted; serve it yourself, or with
 * `@willsoto/nestjs-prometheus` (which serves the default registry). Needs ElasticaModule (global).
 */
@Module({})
export class ElasticaMetricsModule {
  static forRoot(options: ElasticaMetricsOptions = {}): DynamicModule {
    return {
      module: ElasticaMetricsModule,
      providers: [{ provide: METRICS_OPTIONS, useValue: options }, ElasticaMetricsService],
      exports: [ElasticaMetricsService],
    };
  }
}
