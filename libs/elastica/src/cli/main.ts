#!/usr/bin/env node
// The `elastica` command (the package's bin): an admin client of one node, over its cluster port.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AdminClient } from '../admin/admin-client.js';
import type { AdminCommand, AdminStatus } from '../admin/admin.types.js';
import { ADMIN_COMMANDS } from '../admin/admin.types.js';
import { formatStatus } from './format-status.js';

const USAGE = `usage: elastica status|ring|gossipinfo|leave|forget <nodeId> --node HOST:PORT [--secret S] [--cluster NAME] [--json]
  [--tls-key FILE --tls-cert FILE --tls-ca FILE] [--id ID] [--timeout-ms MS]
  --secret defaults to $ELASTICA_SECRET, --cluster to $ELASTICA_CLUSTER or "elastica", --node to $ELASTICA_NODE`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      node: { type: 'string' },
      secret: { type: 'string' },
      cluster: { type: 'string' },
      json: { type: 'boolean', default: false },
      'tls-key': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-ca': { type: 'string' },
      id: { type: 'string' },
      'timeout-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, ...rest] = positionals;
  if (!ADMIN_COMMANDS.includes(command as AdminCommand))
    throw new UsageError(`unknown command ${JSON.stringify(command ?? '')}`);
  const node = values.node ?? process.env.ELASTICA_NODE;
  if (!node) throw new UsageError('--node HOST:PORT is required');
  if (command === 'forget' && rest.length !== 1) throw new UsageError('forget takes one node id');
  const tlsFiles = [values['tls-key'], values['tls-cert'], values['tls-ca']];
  if (tlsFiles.some((f) => f !== undefined) && tlsFiles.some((f) => f === undefined))
    throw new UsageError('--tls-key, --tls-cert and --tls-ca go together');
  const client = await AdminClient.connect({
    node,
    cluster: values.cluster ?? process.env.ELASTICA_CLUSTER ?? 'elastica',
    secret: values.secret ?? process.env.ELASTICA_SECRET,
    tls: values['tls-key']
      ? {
          key: readFileSync(values['tls-key']),
          cert: readFileSync(values['tls-cert']!),
          ca: readFileSync(values['tls-ca']!),
        }
      : undefined,
    id: values.id,
    timeoutMs: values['timeout-ms'] ? Number(values['timeout-ms']) : undefined,
  });
  try {
    const answer = await client.request<unknown>(
      command as AdminCommand,
      command === 'forget' ? { nodeId: rest[0] } : null,
    );
    if (values.json) console.log(JSON.stringify(answer, null, 2));
    else if (command === 'status') console.log(formatStatus(answer as AdminStatus));
    else if (command === 'forget') console.log(`forgot ${rest[0]}: every node drops it within a few gossip rounds`);
    else if (command === 'leave') {
      const reply = (answer as { answer?: { message?: string } | null }).answer;
      console.log(reply?.message ?? `${node} announced its departure and left the cluster`);
    } else console.log(JSON.stringify(answer, null, 2));
    return 0;
  } finally {
    client.close();
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`elastica: ${message}`);
    if (error instanceof UsageError) console.error(USAGE);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
