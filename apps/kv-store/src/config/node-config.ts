import { parseArgs } from 'node:util';

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
} as const;

export const USAGE = `usage: node dist/apps/kv-store/main.js --port 7001 --http 8001 --seeds 127.0.0.1:7001 [--host H] [--advertise-host H] [--secret S] [--cluster NAME] [--node-id ID]
every flag also reads an environment variable: ${Object.entries(FLAGS).map(([flag, { env }]) => `--${flag} ${env}`).join(', ')}`;

export class ConfigError extends Error {}

function integer(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text)) throw new ConfigError(`--${flag} must be an integer port, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function parseNodeConfig(argv: string[], env: NodeJS.ProcessEnv): NodeConfig {
  const { values } = parseArgs({
    args: argv,
    options: Object.fromEntries(Object.entries(FLAGS).map(([name, spec]) => [name, { type: spec.type }])),
    strict: true,
    allowPositionals: false,
  });
  const value = (flag: keyof typeof FLAGS): string | undefined => (values[flag] as string | undefined) ?? env[FLAGS[flag].env];
  const port = integer('port', value('port'), 7001);
  const seedsText = value('seeds');
  return {
    port,
    http: integer('http', value('http'), 8001),
    seeds: seedsText === undefined ? [] : seedsText.split(',').map((s) => s.trim()).filter((s) => s.length > 0),
    host: value('host') ?? '127.0.0.1',
    advertiseHost: value('advertise-host'),
    secret: value('secret'),
    cluster: value('cluster') ?? 'kv-store',
    nodeId: value('node-id'),
  };
}
