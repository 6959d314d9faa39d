// The server side of `npm run bench -- rpc`, run as a child process: one Nest app serving the same
// echo handler over Elastica and over Nest's built-in TCP transport. Prints its ports as one JSON line.
import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { ClusterMessage, ElasticaModule, ElasticaTransport, TransportService } from 'elastica';

/** The one handler both transports serve. */
function handle(payload: unknown): unknown {
  return payload;
}

@Controller()
class BenchController {
  @ClusterMessage('bench.echo')
  viaElastica(@Payload() payload: unknown) {
    return handle(payload);
  }

  @MessagePattern('bench.echo', Transport.TCP)
  viaNestTcp(@Payload() payload: unknown) {
    return handle(payload);
  }
}

const tcpPort = Number(process.argv[2]);

@Module({
  imports: [ElasticaModule.forRoot({ nodeId: 'bench-server', bind: { host: '127.0.0.1', port: 0 } })],
  controllers: [BenchController],
})
class ServerModule {}

const app = await NestFactory.create(ServerModule, { logger: false });
app.connectMicroservice({ strategy: app.get(ElasticaTransport) });
app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port: tcpPort } });
await app.startAllMicroservices();
await app.init();
process.stdout.write(`${JSON.stringify({ elastica: app.get(TransportService).address, tcp: tcpPort })}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
