import { statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { MemoryStorageEngine } from './memory-engine.js';
import { CorruptDataError, decodeRecord, encodeRecord } from './record-codec.js';
import { DiskFullError, type ApplyOutcome, type StorageEngine, type StorageLimits } from './storage-engine.js';
import { supersedes, type Versioned } from './versioned.js';

export interface LmdbEngineOptions {
  dir: string;
  limits: StorageLimits;
  /**
   * Writes are refused (DiskFullError) while the file system has less free space than this: LMDB
   * copies the pages a commit touches, so a disk filled to the last byte fails commits it could
   * otherwise make. Default 1 MiB.
   */
  minFreeBytes?: number;
}

/** How often the free space is looked up while there is plenty (each write when there is little). */
const FREE_SPACE_CHECK_MS = 100;
const LOW_SPACE_FACTOR = 8;

/**
 * The node's copies on disk, in LMDB (lmdb-js): a memory-mapped B+tree, crash-safe by copy-on-write.
 * Writes are batched by lmdb-js into one transaction per turn of the event loop (a group commit), and
 * each transaction is synced to disk (fdatasync) before the promise of its writes resolves: that
 * promise is what `durable()` returns, so a replica acknowledges a write only once it is on disk.
 *
 * Reads are served from an index in memory (every key with its version), loaded at start-up, so reads,
 * digests and listings stay synchronous and as fast as with `--storage memory`; the disk is the
 * record. The index carries the same bounds as the memory engine: a write past `maxKeys` or
 * `maxBytes` is refused with StoreFullError, and one the disk cannot take with DiskFullError.
 */
export class LmdbStorageEngine implements StorageEngine {
  readonly kind = 'lmdb';
  private lastCommit: Promise<void> = Promise.resolve();
  private freeCheckedAt = -Infinity;
  private freeBytes = Infinity;
  private readonly minFreeBytes: number;

  private constructor(
    private readonly root: RootDatabase,
    private readonly data: Database<Buffer, string>,
    private readonly state: Database<unknown, string>,
    private readonly index: MemoryStorageEngine,
    private readonly dir: string,
    options: LmdbEngineOptions,
  ) {
    this.minFreeBytes = options.minFreeBytes ?? 1024 * 1024;
  }

  /**
   * Opens (or creates) the store in `dir` and reads every record into the index, checking each.
   * Throws CorruptDataError, naming the problem, when the file is truncated or a record is damaged:
   * the node then refuses to start rather than serve what is left (see data-dir.ts).
   */
  static open(options: LmdbEngineOptions): LmdbStorageEngine {
    const file = join(options.dir, 'data.mdb');
    let fileBytes: number | undefined;
    try {
      fileBytes = statSync(file).size;
    } catch {
      // A new store.
    }
    // LMDB maps the file: reading a page past a truncated end kills the process (SIGBUS) before any
    // check could run, so the file's length is compared with what its last commit says first.
    if (fileBytes !== undefined && fileBytes < 2 * 4096)
      throw new CorruptDataError(`${file} is ${fileBytes} bytes, shorter than LMDB's two header pages`);
    let root: RootDatabase;
    try {
      root = open({
        path: options.dir,
        compression: false,
        // Each commit is synced before its writes' promises resolve (no overlapping sync, which would
        // resolve them first and sync after).
        overlappingSync: false,
        noSync: false,
        maxDbs: 4,
      });
    } catch (error) {
      throw new CorruptDataError(`${file} cannot be opened: ${(error as Error).message}`);
    }
    if (fileBytes !== undefined) {
      const stats = root.getStats() as { lastPageNumber: number; pageSize: number };
      const needed = (stats.lastPageNumber + 1) * stats.pageSize;
      if (fileBytes < needed) {
        void root.close();
        throw new CorruptDataError(
          `${file} is ${fileBytes} bytes but its last commit needs ${needed}: the file was truncated`,
        );
      }
    }
    const data = root.openDB<Buffer, string>({ name: 'data', encoding: 'binary' });
    const state = root.openDB<unknown, string>({ name: 'state', encoding: 'json' });
    const index = new MemoryStorageEngine(options.limits);
    try {
      for (const { key, value } of data.getRange()) index.load(key, decodeRecord(key, value));
    } catch (error) {
      void root.close();
      throw error instanceof CorruptDataError ? new CorruptDataError(`${file}: ${error.message}`) : error;
    }
    return new LmdbStorageEngine(root, data, state, index, options.dir, options);
  }

  get size(): number {
    return this.index.size;
  }

  get bytes(): number {
    return this.index.bytes;
  }

  get mutations(): number {
    return this.index.mutations;
  }

  get capacity(): StorageLimits {
    return this.index.capacity;
  }

  get(key: string): Versioned | undefined {
    return this.index.get(key);
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  keys(): IterableIterator<string> {
    return this.index.keys();
  }

  all(): IterableIterator<[string, Versioned]> {
    return this.index.all();
  }

  apply(key: string, incoming: Versioned): ApplyOutcome {
    // Only a write that would change something needs room on disk.
    if (supersedes(incoming, this.index.get(key))) this.checkFreeSpace();
    const outcome = this.index.apply(key, incoming);
    if (outcome === 'applied') this.track(key, incoming, this.data.put(key, encodeRecord(key, incoming)));
    return outcome;
  }

  remove(key: string): boolean {
    if (!this.index.remove(key)) return false;
    this.track(key, undefined, this.data.remove(key));
    return true;
  }

  collectTombstones(wallMs: number): number {
    const old: string[] = [];
    for (const [key, v] of this.index.all()) if (v.value === null && v.ts.wall < wallMs) old.push(key);
    for (const key of old) this.remove(key);
    return old.length;
  }

  durable(): Promise<void> {
    return this.lastCommit;
  }

  loadState(name: string): unknown {
    return this.state.get(name);
  }

  saveState(name: string, value: unknown): void {
    // Goes into the same transaction as the data written in this turn; a failure shows on those writes.
    this.state.put(name, value).catch(() => {});
  }

  async close(): Promise<void> {
    await this.lastCommit.catch(() => {});
    await this.root.close();
  }

  /**
   * Follows one write to disk. lmdb-js commits in order, so the last write's promise resolving means
   * every earlier one is on disk too. If the commit fails, the change is undone in the index (unless
   * a later one replaced it), so nothing is served that the disk does not hold.
   */
  private track(key: string, written: Versioned | undefined, commit: Promise<boolean>): void {
    const tracked = commit.then(
      () => undefined,
      (error: unknown) => {
        if (this.index.get(key) === written) {
          const stored = this.data.get(key);
          if (stored === undefined) this.index.remove(key);
          else this.index.load(key, decodeRecord(key, stored));
        }
        this.freeCheckedAt = -Infinity;
        throw new DiskFullError(`writing to ${this.dir} failed: ${(error as Error).message}`);
      },
    );
    tracked.catch(() => {}); // seen by whoever awaits durable(); not an unhandled rejection otherwise
    this.lastCommit = tracked;
  }

  private checkFreeSpace(): void {
    const now = performance.now();
    const low = this.freeBytes < LOW_SPACE_FACTOR * this.minFreeBytes;
    if (low || now - this.freeCheckedAt >= FREE_SPACE_CHECK_MS) {
      const fs = statfsSync(this.dir);
      this.freeBytes = fs.bavail * fs.bsize;
      this.freeCheckedAt = now;
    }
    if (this.freeBytes < this.minFreeBytes)
      throw new DiskFullError(
        `${this.freeBytes} bytes free in ${this.dir}, at least ${this.minFreeBytes} are kept free for LMDB's commits`,
      );
  }
}
