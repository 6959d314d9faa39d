import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { DataDirError, IDENTITY_FILE, keepTokens, openDataDir, type DataDirRequest } from './data-dir.js';
import { LmdbStorageEngine } from './lmdb-engine.js';
import { CorruptDataError } from './record-codec.js';
import { DiskFullError, StoreFullError } from './storage-engine.js';
import type { Versioned } from './versioned.js';

const v = (wall: number, value: string | null, node = 'n1'): Versioned => ({ ts: { wall, logical: 0, node }, value });
const limits = { maxKeys: 1000, maxBytes: 1_000_000 };
const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kv-lmdb-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('LmdbStorageEngine', () => {
  it('keeps what it acknowledged across a reopen: values, tombstones, removals, state', async () => {
    const dir = freshDir();
    const engine = LmdbStorageEngine.open({ dir, limits });
    engine.apply('a', v(1, 'one'));
    engine.apply('b', v(2, 'two'));
    engine.apply('c', v(3, null));
    engine.apply('b', v(1, 'older')); // stale: not written
    engine.remove('a');
    engine.saveState('hlc', [3, 0]);
    await engine.durable();
    await engine.close();
    const again = LmdbStorageEngine.open({ dir, limits });
    expect([...again.all()].sort()).toEqual([
      ['b', v(2, 'two')],
      ['c', v(3, null)],
    ]);
    expect(again.bytes).toBeGreaterThan(0);
    expect(again.loadState('hlc')).toEqual([3, 0]);
    expect(again.collectTombstones(10)).toBe(1);
    await again.close();
    const third = LmdbStorageEngine.open({ dir, limits });
    expect([...third.keys()]).toEqual(['b']);
    await third.close();
  });

  it('refuses writes past its configured size, and keeps nothing of them', async () => {
    const dir = freshDir();
    const engine = LmdbStorageEngine.open({ dir, limits: { maxKeys: 2, maxBytes: 1_000_000 } });
    engine.apply('a', v(1, 'x'));
    engine.apply('b', v(1, 'x'));
    expect(() => engine.apply('c', v(1, 'x'))).toThrow(StoreFullError);
    await engine.close();
    const again = LmdbStorageEngine.open({ dir, limits });
    expect(again.size).toBe(2);
    await again.close();
  });

  it('refuses writes while the disk has less free space than it keeps for commits', async () => {
    const engine = LmdbStorageEngine.open({ dir: freshDir(), limits, minFreeBytes: Number.MAX_SAFE_INTEGER });
    expect(() => engine.apply('a', v(1, 'x'))).toThrow(DiskFullError);
    expect(engine.size).toBe(0);
    await engine.close();
  });

  it('a damaged value fails its checksum at start-up', async () => {
    const dir = freshDir();
    const engine = LmdbStorageEngine.open({ dir, limits });
    engine.apply('k', v(1, 'CANARY-VALUE-0123456789'));
    await engine.close();
    const file = join(dir, 'data.mdb');
    const bytes = readFileSync(file);
    const at = bytes.indexOf('CANARY-VALUE');
    expect(at).toBeGreaterThan(0);
    bytes[at + 3] ^= 0x20;
    writeFileSync(file, bytes);
    expect(() => LmdbStorageEngine.open({ dir, limits })).toThrow(/fails its checksum/);
  });

  it('a truncated file is detected before it is read (reading past its end would kill the process)', async () => {
    const dir = freshDir();
    const engine = LmdbStorageEngine.open({ dir, limits });
    for (let i = 0; i < 900; i++) engine.apply(`key-${i}`, v(1, 'x'.repeat(200)));
    await engine.close();
    const file = join(dir, 'data.mdb');
    truncateSync(file, 64 * 1024);
    expect(() => LmdbStorageEngine.open({ dir, limits })).toThrow(/was truncated/);
    truncateSync(file, 100);
    expect(() => LmdbStorageEngine.open({ dir, limits })).toThrow(CorruptDataError);
  });
});

describe('openDataDir', () => {
  const request = (dir: string, extra: Partial<DataDirRequest> = {}): DataDirRequest => ({
    dir,
    storage: 'lmdb',
    cluster: 'c1',
    nodeId: 'n1',
    limits,
    ...extra,
  });

  it('keeps the node id and tokens, and refuses another cluster or node id, saying why', async () => {
    const dir = freshDir();
    const first = openDataDir(request(dir, { nodeId: undefined }));
    expect(first.nodeId).toBeUndefined();
    first.keepIdentity('n1');
    keepTokens(first.engine, [5, 9, 12]);
    first.engine.apply('k', v(1, 'x'));
    await first.engine.close();
    expect(JSON.parse(readFileSync(join(dir, IDENTITY_FILE), 'utf8'))).toMatchObject({ cluster: 'c1', nodeId: 'n1' });

    const again = openDataDir(request(dir, { nodeId: undefined }));
    expect(again.nodeId).toBe('n1');
    expect(again.restoreTokens).toEqual([5, 9, 12]);
    await again.engine.close();

    expect(() => openDataDir(request(dir, { cluster: 'c2' }))).toThrow(
      /holds the data of cluster "c1", not "c2": a node does not start on another cluster's data/,
    );
    expect(() => openDataDir(request(dir, { nodeId: 'n2' }))).toThrow(
      /holds the data of node "n1", not "n2": a node does not start on another node's data/,
    );
  });

  it('refuses data with no identity file, a damaged identity file, and damaged data', async () => {
    const dir = freshDir();
    const opened = openDataDir(request(dir));
    opened.keepIdentity('n1');
    opened.engine.apply('k', v(1, 'CANARY-VALUE-0123456789'));
    await opened.engine.close();
    const identity = readFileSync(join(dir, IDENTITY_FILE));
    writeFileSync(join(dir, IDENTITY_FILE), '{"clu');
    expect(() => openDataDir(request(dir))).toThrow(/is damaged: it does not say which cluster/);
    rmSync(join(dir, IDENTITY_FILE));
    expect(() => openDataDir(request(dir))).toThrow(DataDirError);
    expect(() => openDataDir(request(dir))).toThrow(/holds data but no elastica-node.json/);
    writeFileSync(join(dir, IDENTITY_FILE), identity);
    const file = join(dir, 'data.mdb');
    const bytes = readFileSync(file);
    bytes[bytes.indexOf('CANARY-VALUE') + 1] ^= 0x01;
    writeFileSync(file, bytes);
    expect(() => openDataDir(request(dir))).toThrow(
      /is damaged \(.*fails its checksum\); this node refuses to start rather than serve values it cannot vouch for/,
    );
  });

  it('--storage memory opens nothing on disk', () => {
    const opened = openDataDir(request(join(freshDir(), 'never'), { storage: 'memory' }));
    expect(opened.engine.kind).toBe('memory');
  });
});
