import 'reflect-metadata';
import { Controller, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClusterClient, ElasticaModule, ElasticaTransport, TransportService, type ElasticaOptions } from 'elastica';
import { freePort } from '../support/free-port.js';

export { freePort };

/** A port nobody listens on right now (listen on 0, read it, close). */

export interface TestNode {
  app: INestApplication;
  id: string;
  port: number;
  address: string;
  client: ClusterClient;
  transport: TransportService;
  close(): Promise<void>;
}

/** One real Nest app with ElasticaModule on a loopback port, its strategy connected and listening. */
export async function startNode(
  id: string,
  options: Partial<ElasticaOptions> = {},
  controllers: Type[] = [],
  port?: number,
): Promise<TestNode> {
  const p = port ?? (await freePort());
  const moduleRef = await Test.createTestingModule({
    imports: [ElasticaModule.forRoot({ nodeId: id, bind: { host: '127.0.0.1', port: p }, ...options })],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: process.env.ELASTICA_TEST_LOGS ? undefined : false });
  app.connectMicroservice({ strategy: app.get(ElasticaTransport) });
  await app.startAllMicroservices();
  await app.init();
  const transport = app.get(TransportService);
  return {
    app,
    id,
    port: p,
    address: `127.0.0.1:${p}`,
    client: app.get(ClusterClient),
    transport,
    close: () => app.close(),
  };
}

/**
 * Subscribes and returns the error the Observable raised during subscribe itself, i.e. at once: nothing
 * was sent and nothing is waited for (undefined if it did not fail then). No clock decides it.
 */
export function failsAtOnce(source: {
  subscribe(observer: { error(e: unknown): void }): { unsubscribe(): void };
}): unknown {
  let error: unknown;
  const subscription = source.subscribe({
    error: (e) => {
      error = e;
    },
  });
  subscription.unsubscribe();
  return error;
}

export { Controller };

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
