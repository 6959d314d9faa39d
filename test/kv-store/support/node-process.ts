import { join } from 'node:path';
import { KV_STORE_ENTRY, ROOT } from '../../support/build.js';
import { NodeProcess } from '../../support/node-process.js';

export const ARTIFACTS = join(ROOT, 'test-artifacts', 'kv-store');

export interface KvNodeSpec {
  name: string;
  /** The cluster port: the node's id is 127.0.0.1:<port>. */
  port: number;
  http: number;
  seeds: string[];
}

/** One `node dist/apps/kv-store/main.js` on loopback, its output kept in test-artifacts/kv-store/<name>.log. */
export class KvNodeProcess extends NodeProcess {
  constructor(readonly node: KvNodeSpec) {
    super({
      name: node.name,
      argv: [KV_STORE_ENTRY, '--port', String(node.port), '--http', String(node.http), '--seeds', node.seeds.join(',')],
      env: { NO_COLOR: '1' },
      logFile: join(ARTIFACTS, `${node.name}.log`),
    });
  }

  get id(): string {
    return `127.0.0.1:${this.node.port}`;
  }

  get url(): string {
    return `http://127.0.0.1:${this.node.http}`;
  }
}
