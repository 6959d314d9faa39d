import { mkdirSync, rmSync } from 'node:fs';
import { afterAll } from '@jest/globals';
import { tmpdir } from 'node:os';
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
  /** Extra flags (e.g. `--storage memory`). */
  args?: string[];
  /** Default a fresh folder of this suite file's (see dataDirOf). */
  dataDir?: string;
}

/**
 * The suite file's data folders, one per node, under one root removed once the file's tests are done:
 * a node restarted by a test finds its data again; parallel runs never share a folder.
 */
const DATA_ROOT = join(tmpdir(), `kv-e2e-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(DATA_ROOT, { recursive: true });
afterAll(() => rmSync(DATA_ROOT, { recursive: true, force: true }));

export function dataDirOf(name: string): string {
  return join(DATA_ROOT, name);
}

/** One `node dist/apps/kv-store/main.js` on loopback, its output kept in test-artifacts/kv-store/<name>.log. */
export class KvNodeProcess extends NodeProcess {
  constructor(readonly node: KvNodeSpec) {
    super({
      name: node.name,
      argv: [
        KV_STORE_ENTRY,
        '--port',
        String(node.port),
        '--http',
        String(node.http),
        '--seeds',
        node.seeds.join(','),
        '--data-dir',
        node.dataDir ?? dataDirOf(`${node.name}-${node.port}`),
        ...(node.args ?? []),
      ],
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
