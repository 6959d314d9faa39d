import 'reflect-metadata';
import type { LoggerService, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { ClusterClient, ElasticaModule, ElasticaTransport, TransportService, type ElasticaOptions } from 'elastica';
import { freePort, type TestNode } from '../transport/nodes.js';

/**
 * Keeps every line Nest's loggers print. Nest's logger is process-wide (the last app created sets
 * it), so tests pick their lines by something only they know (a raw socket's port).
 */
export class RecordingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(String(message));
  }
  warn(message: unknown): void {
    this.lines.push(String(message));
  }
  error(message: unknown): void {
    this.lines.push(String(message));
  }
  debug(message: unknown): void {
    this.lines.push(String(message));
  }
  verbose(): void {}

  count(pattern: RegExp): number {
    return this.lines.filter((l) => pattern.test(l)).length;
  }
}

/** startNode, with the app's log lines recorded. */
export async function startLoggedNode(
  id: string,
  options: Partial<ElasticaOptions>,
  controllers: Type[],
  logger: RecordingLogger,
): Promise<TestNode> {
  const port = await freePort();
  const moduleRef = await Test.createTestingModule({
    imports: [ElasticaModule.forRoot({ nodeId: id, bind: { host: '127.0.0.1', port }, ...options })],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger });
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
