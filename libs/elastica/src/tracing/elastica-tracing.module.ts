import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ClusterClient } from '../client/cluster-client.js';
import { TransportService } from '../transport/transport.service.js';
import { ElasticaTracing, type ElasticaTracingOptions } from './elastica-tracing.js';

const TRACING_OPTIONS = Symbol('ELASTICA_TRACING_OPTIONS');

/** Registers the client and server spans while the application runs. */
@Injectable()
export class ElasticaTracingService implements OnModuleInit, OnModuleDestroy {
  readonly tracing: ElasticaTracing;

  constructor(
    @Inject(TRACING_OPTIONS) options: ElasticaTracingOptions,
    client: ClusterClient,
    transport: TransportService,
  ) {
    this.tracing = new ElasticaTracing({ client, transport }, options);
  }

  onModuleInit(): void {
    this.tracing.register();
  }

  onModuleDestroy(): void {
    this.tracing.unregister();
  }
}

/**
 * `ElasticaTracingModule.forRoot()`: OpenTelemetry spans for cluster calls (see ElasticaTracing). The
 * application registers the SDK (exporter, context manager, W3C propagator) as it would for anything
 * else; without one, nothing is recorded or sent. Needs ElasticaModule (global).
 */
@Module({})
export class ElasticaTracingModule {
  static forRoot(options: ElasticaTracingOptions = {}): DynamicModule {
    return {
      module: ElasticaTracingModule,
      providers: [{ provide: TRACING_OPTIONS, useValue: options }, ElasticaTracingService],
      exports: [ElasticaTracingService],
    };
  }
}
