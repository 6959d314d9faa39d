import 'reflect-metadata';
import type { INestApplication, LoggerService, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClusterClient, ElasticaModule, ElasticaTransport, TransportService, type ElasticaOptions } from 'elastica';
import { freePort } from './free-port.js';

export interface TestNode {
  app: INestApplication;
  id: string;
  port: number;
  address: string;
  client: ClusterClient;
  transport: TransportService;
  close(): Promise<void>;
}

export interface StartAt {
  /** The node's port; default a free one. A restart passes the port of the run before. */
  port?: number;
  /** Where Nest's log lines go; default nowhere, unless ELASTICA_TEST_LOGS is set. */
  logger?: LoggerService;
}

/** One real Nest app with ElasticaModule on a loopback port, its strategy connected and listening. */
export async function startNode(
  id: string,
  options: Partial<ElasticaOptions> = {},
  controllers: Type[] = [],
  at: StartAt = {},
): Promise<TestNode> {
  const port = at.port ?? (await freePort());
  const moduleRef = await Test.createTestingModule({
    imports: [ElasticaModule.forRoot({ nodeId: id, bind: { host: '127.0.0.1', port }, ...options })],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({
    logger: at.logger ?? (process.env.ELASTICA_TEST_LOGS ? undefined : false),
  });
  app.connectMicroservice({ strategy: app.get(ElasticaTransport) });
  await app.startAllMicroservices();
  await app.init();
  return {
    app,
    id,
    port,
    address: `127.0.0.1:${port}`,
    client: app.get(ClusterClient),
    transport: app.get(TransportService),
    close: () => app.close(),
  };
}

/** Nodes a test file started, so one `afterAll(closeStartedNodes)` stops them all even when a test failed. */
const startedNodes: TestNode[] = [];

export async function startTrackedNode(...args: Parameters<typeof startNode>): Promise<TestNode> {
  const started = await startNode(...args);
  startedNodes.push(started);
  return started;
}

export async function closeStartedNodes(): Promise<void> {
  await Promise.all(startedNodes.splice(0).map((n) => n.close()));
}
