import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GossipService } from 'elastica';
import { AppModule } from './app.module.js';
import { ConfigError, parseNodeConfig, USAGE } from './config/node-config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = parseNodeConfig(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const app = await NestFactory.create(AppModule.register(config), { logger: ['log', 'warn', 'error'] });
  app.enableShutdownHooks();
  await app.listen(config.http, config.host === '0.0.0.0' ? '0.0.0.0' : config.host);
  const gossip = app.get(GossipService);
  new Logger('kv-store').log(`node ${gossip.localNodeId} serving HTTP on ${config.host}:${config.http}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
