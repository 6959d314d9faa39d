import { Module, type DynamicModule } from '@nestjs/common';
import { ElasticaModule } from 'elastica';
import type { NodeConfig } from './config/node-config.js';

@Module({})
export class AppModule {
  static register(config: NodeConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ElasticaModule.forRoot({
          cluster: config.cluster,
          nodeId: config.nodeId,
          bind: { host: config.host, port: config.port },
          advertise: config.advertiseHost ? { host: config.advertiseHost } : undefined,
          seeds: config.seeds,
          secret: config.secret,
        }),
      ],
    };
  }
}
