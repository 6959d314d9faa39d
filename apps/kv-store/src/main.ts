import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ElasticaTransport, GossipService } from 'elastica';
import { AppModule } from './app.module.js';
import { parseNodeConfig, USAGE } from './config/node-config.js';
import { DEFAULT_KV_STORE_OPTIONS } from './kv/kv-options.js';
import { DataDirError, openDataDir, type OpenedStore } from './store/data-dir.js';
import { HttpLimits } from './http/http-limits.js';
import { Shutdown } from './lifecycle/shutdown.js';

async function main(): Promise<void> {
  let config;
  try {
    config = parseNodeConfig(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const logger = new Logger('kv-store');
  // A safety net: nothing a client or a peer sends may take the node down.
  process.on('unhandledRejection', (reason) =>
    logger.error(`unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`),
  );

  // The data directory first: a node on another's data, or on damaged data, stops here saying why.
  let opened: OpenedStore;
  try {
    opened = openDataDir({
      dir: config.dataDir,
      storage: config.storage,
      cluster: config.cluster,
      nodeId: config.nodeId,
      limits: DEFAULT_KV_STORE_OPTIONS.node.storage,
    });
  } catch (error) {
    if (!(error instanceof DataDirError)) throw error;
    console.error(`refusing to start: ${error.message}`);
    process.exit(3);
  }
  config = { ...config, nodeId: config.nodeId ?? opened.nodeId };
  if (config.storage === 'lmdb')
    logger.log(
      `data in ${config.dataDir}: ${opened.engine.size} keys read back in ${Math.round(opened.openMs)} ms${opened.restoreTokens ? `, ${opened.restoreTokens.length} tokens kept from the previous run` : ''}`,
    );
  else logger.warn('--storage memory: this node keeps nothing across a restart');

  // The body parser is off: PUT /kv/:key reads its text body itself, with a bound (see read-body.ts).
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config, undefined, opened), {
    logger: ['log', 'warn', 'error'],
    bodyParser: false,
    forceCloseConnections: true,
  });
  app.enableShutdownHooks();
  opened.keepIdentity(app.get(GossipService).localNodeId);
  app.get(HttpLimits).apply(app.getHttpServer()); // bounded connections; body bytes are bounded per request by HttpLimits too
  app.connectMicroservice({ strategy: app.get(ElasticaTransport) });
  await app.startAllMicroservices();
  await app.listen(config.http, config.host);
  app.get(Shutdown).requested$.subscribe((code) => {
    logger.log(`closing (exit code ${code})`);
    void app.close().finally(() => process.exit(code));
  });
  const self = app.get(GossipService).localNodeId;
  const shown = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  logger.log(`node ${self}: cluster port ${config.port}, HTTP and dashboard on http://${shown}:${config.http}/`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
