// A user's app, built against the packed `elastica` in a fresh directory by pack.e2e-spec.ts (which
// copies it there as src/main.ts): two nodes in one process on loopback, the second joining through
// the first, and one @ClusterMessage from A to B. It imports only what a user would, and prints as
// its last line one JSON object: the reply, and the file `elastica` resolved to.
import 'reflect-metadata';
import { Controller, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { firstValueFrom } from 'rxjs';
import {
  ClusterClient,
  ClusterContext,
  ClusterMessage,
  ElasticaModule,
  ElasticaTransport,
  GossipService,
  type ElasticaOptions,
} from 'elastica';

@Controller()
class PingController {
  constructor(private readonly gossip: GossipService) {}

  @ClusterMessage('ping')
  ping(@Payload() text: string, @Ctx() ctx: ClusterContext): string {
    return `pong: ${text} (from ${ctx.getSender()} to ${this.gossip.localNodeId})`;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function startNode(options: ElasticaOptions): Promise<INestApplication> {
  @Module({ imports: [ElasticaModule.forRoot(options)], controllers: [PingController] })
  class AppModule {}
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.connectMicroservice({ strategy: app.get(ElasticaTransport) });
  await app.startAllMicroservices();
  await app.init();
  return app;
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const portA = await freePort();
let portB = await freePort();
while (portB === portA) portB = await freePort();
const seeds = [`127.0.0.1:${portA}`];
const a = await startNode({ cluster: 'pack', nodeId: 'node-a', bind: { host: '127.0.0.1', port: portA }, seeds });
const b = await startNode({ cluster: 'pack', nodeId: 'node-b', bind: { host: '127.0.0.1', port: portB }, seeds });
try {
  const gossip = a.get(GossipService);
  await until(
    'node-b up at node-a',
    () => gossip.members().some((m) => m.id === 'node-b' && m.status === 'up'),
    20_000,
  );
  const reply = await firstValueFrom(a.get(ClusterClient).send<string>('node-b', 'ping', 'hello', { timeoutMs: 5000 }));
  console.log(JSON.stringify({ reply, elastica: fileURLToPath(import.meta.resolve('elastica')) }));
} finally {
  await Promise.all([a.close(), b.close()]);
}
