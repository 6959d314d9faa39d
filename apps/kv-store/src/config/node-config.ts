import { parseArgs } from 'node:util';
import type { ElasticaOptions } from 'elastica';

/** The example app's command line (every flag also has an ELASTICA_* environment variable). */
export interface NodeConfig {
  port: number;
  http: number;
  seeds: string[];
  host: string;
  advertiseHost?: string;
  secret?: string;
  cluster: string;
  nodeId?: string;
  appVersion?: string;
  /** Tests of rolling upgrades only: the highest wire-protocol version this node claims to speak. */
  protocolMax?: number;
}

const FLAGS = {
  port: { type: 'string', env: 'ELASTICA_PORT' },
  http: { type: 'string', env: 'ELASTICA_HTTP' },
  seeds: { type: 'string', env: 'ELASTICA_SEEDS' },
  host: { type: 'string', env: 'ELASTICA_HOST' },
  'advertise-host': { type: 'string', env: 'ELASTICA_ADVERTISE_HOST' },
  secret: { type: 'string', env: 'ELASTICA_SECRET' },
  cluster: { type: 'string', env: 'ELASTICA_CLUSTER' },
  'node-id': { type: 'string', env: 'ELASTICA_NODE_ID' },
  'app-version': { type: 'string', env: 'ELASTICA_APP_VERSION' },
  'protocol-max': { type: 'string', env: 'ELASTICA_PROTOCOL_MAX' },
} as const;

export const USAGE = `usage: node dist/apps/kv-store/main.js --port 7001 --http 8001 --seeds 127.0.0.1:7001 [--host H] [--advertise-host H] [--secret S] [--cluster NAME] [--node-id ID] [--app-version V]
every flag also reads an environment variable: ${Object.entries(FLAGS)
  .map(([flag, { env }]) => `--${flag} ${env}`)
  .join(', ')}`;

export class ConfigError extends Error {}

function port(flag: keyof typeof FLAGS, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  // 0 would bind a random port the node could neither advertise nor print.
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new ConfigError(
      `--${flag} (or ${FLAGS[flag].env}) must be a port from 1 to 65535, got ${JSON.stringify(text)}`,
    );
  }
  return Number(text);
}

function protocolMax(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535)
    throw new ConfigError(
      `--protocol-max (or ELASTICA_PROTOCOL_MAX) must be a version from 1 to 65535, got ${JSON.stringify(text)}`,
    );
  return Number(text);
}

export function parseNodeConfig(argv: string[], env: NodeJS.ProcessEnv): NodeConfig {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.entries(FLAGS).map(([name, spec]) => [name, { type: spec.type }])),
    strict: true,
    allowPositionals: false,
  });
  const value = (flag: keyof typeof FLAGS): string | undefined => values[flag] ?? env[FLAGS[flag].env];
  const seedsText = value('seeds');
  return {
    port: port('port', value('port'), 7001),
    http: port('http', value('http'), 8001),
    seeds:
      seedsText === undefined
        ? []
        : seedsText
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s.length > 0),
    host: value('host') ?? '127.0.0.1',
    advertiseHost: value('advertise-host'),
    secret: value('secret'),
    cluster: value('cluster') ?? 'kv-store',
    nodeId: value('node-id'),
    appVersion: value('app-version'),
    protocolMax: protocolMax(value('protocol-max')),
  };
}

/**
 * What the node asks of Elastica. Hosts, seeds, secret and cluster name are checked there, at start-up,
 * each failing with one message naming the option (ElasticaOptionsError).
 */
export function elasticaOptionsOf(config: NodeConfig): ElasticaOptions {
  return {
    cluster: config.cluster,
    nodeId: config.nodeId,
    bind: { host: config.host, port: config.port },
    advertise: config.advertiseHost ? { host: config.advertiseHost } : undefined,
    seeds: config.seeds,
    secret: config.secret,
    appVersion: config.appVersion,
    rpc: config.protocolMax === undefined ? undefined : { protocolVersions: { min: 1, max: config.protocolMax } },
  };
}
