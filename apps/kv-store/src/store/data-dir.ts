import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LmdbStorageEngine } from './lmdb-engine.js';
import { MemoryStorageEngine } from './memory-engine.js';
import { CorruptDataError } from './record-codec.js';
import type { StorageEngine, StorageLimits } from './storage-engine.js';

/** The file that says whose data a directory holds. */
export const IDENTITY_FILE = 'elastica-node.json';
const TOKENS_STATE = 'tokens';

/** A data directory this node must not start on (another cluster's or node's, or damaged): the message says why and what to do. */
export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

export interface Identity {
  cluster: string;
  nodeId: string;
  createdAt: string;
}

export interface DataDirRequest {
  dir: string;
  storage: 'lmdb' | 'memory';
  cluster: string;
  /** The node id asked for on the command line, if any. */
  nodeId?: string;
  limits: StorageLimits;
  /** See LmdbEngineOptions.minFreeBytes. */
  minFreeBytes?: number;
}

/** What a node starts with: its engine, its node id (from the command line or the directory), and its kept tokens. */
export interface OpenedStore {
  engine: StorageEngine;
  /** The directory's node id when none was asked for: a node keeps its id across restarts. */
  nodeId?: string;
  /** The tokens of this node's previous run (see `partitioner.restoreTokens`). */
  restoreTokens?: number[];
  /** Set once the node id is known, on a directory that had none. */
  keepIdentity(nodeId: string): void;
  /** Time spent opening and reading the store, ms. */
  openMs: number;
}

const RECOVERY =
  'To have this node start empty and refill from its replicas, move the directory aside (or delete it) and start it again.';

function readIdentity(dir: string): Identity | undefined {
  const file = join(dir, IDENTITY_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DataDirError(`cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as Partial<Identity>;
    if (typeof parsed.cluster === 'string' && typeof parsed.nodeId === 'string' && parsed.nodeId.length > 0)
      return parsed as Identity;
  } catch {
    // Reported below.
  }
  throw new DataDirError(`${file} is damaged: it does not say which cluster and node the data belongs to. ${RECOVERY}`);
}

/** Written whole or not at all (a temporary file, synced, then renamed). */
function writeIdentity(dir: string, identity: Identity): void {
  const file = join(dir, IDENTITY_FILE);
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, `${JSON.stringify(identity, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

function checkedTokens(saved: unknown): number[] | undefined {
  if (!Array.isArray(saved) || saved.length === 0) return undefined;
  return saved.every((t) => Number.isInteger(t) && (t as number) >= 0 && (t as number) < 2 ** 32)
    ? (saved as number[])
    : undefined;
}

/**
 * Opens the node's data directory: checks that it is this cluster's and this node's (its identity
 * file), then opens the store and reads it back, checking every record. A directory of another
 * cluster or node id, or a damaged store, is refused with a DataDirError saying why: this node never
 * serves data that is not its own, nor values it cannot vouch for (see docs/kv-store.md).
 */
export function openDataDir(request: DataDirRequest): OpenedStore {
  const started = performance.now();
  if (request.storage === 'memory')
    return { engine: new MemoryStorageEngine(request.limits), keepIdentity: () => {}, openMs: 0 };
  const { dir, cluster } = request;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new DataDirError(`cannot create the data directory ${dir}: ${(error as Error).message}`);
  }
  const identity = readIdentity(dir);
  if (identity && identity.cluster !== cluster)
    throw new DataDirError(
      `${dir} holds the data of cluster ${JSON.stringify(identity.cluster)}, not ${JSON.stringify(cluster)}: a node does not start on another cluster's data. Give this node its own --data-dir, or start it with --cluster ${identity.cluster}.`,
    );
  if (identity && request.nodeId !== undefined && identity.nodeId !== request.nodeId)
    throw new DataDirError(
      `${dir} holds the data of node ${JSON.stringify(identity.nodeId)}, not ${JSON.stringify(request.nodeId)}: a node does not start on another node's data. Give this node its own --data-dir.`,
    );
  let engine: LmdbStorageEngine;
  try {
    engine = LmdbStorageEngine.open({ dir, limits: request.limits, minFreeBytes: request.minFreeBytes });
  } catch (error) {
    if (error instanceof CorruptDataError)
      throw new DataDirError(
        `the data in ${dir} is damaged (${error.message}); this node refuses to start rather than serve values it cannot vouch for. ${RECOVERY}`,
      );
    throw error;
  }
  if (!identity && engine.size > 0) {
    void engine.close();
    throw new DataDirError(
      `${dir} holds data but no ${IDENTITY_FILE}, so whose it is cannot be told: this node does not start on it. ${RECOVERY}`,
    );
  }
  let kept = identity;
  return {
    engine,
    nodeId: identity?.nodeId,
    restoreTokens: checkedTokens(engine.loadState(TOKENS_STATE)),
    keepIdentity: (nodeId) => {
      if (kept?.nodeId === nodeId) return;
      kept = { cluster, nodeId, createdAt: new Date().toISOString() };
      writeIdentity(dir, kept);
    },
    openMs: performance.now() - started,
  };
}

/** Keeps this node's tokens beside its data, so a whole-cluster restart gets the same ring back. */
export function keepTokens(engine: StorageEngine, tokens: readonly number[]): void {
  if (tokens.length === 0) return;
  const saved = engine.loadState(TOKENS_STATE);
  if (Array.isArray(saved) && saved.length === tokens.length && saved.every((t, i) => t === tokens[i])) return;
  engine.saveState(TOKENS_STATE, [...tokens]);
}
