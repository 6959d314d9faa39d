import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MemoryStorageEngine as StorageEngine } from './memory-engine.js';
import { StoreFullError } from './storage-engine.js';
import { entryBytes, type Versioned } from './versioned.js';

const v = (wall: number, value: string | null, node = 'n1', logical = 0): Versioned => ({
  ts: { wall, logical, node },
  value,
});
const roomy = () => new StorageEngine({ maxKeys: 1000, maxBytes: 1_000_000 });

describe('StorageEngine', () => {
  it('keeps the later version whatever the arrival order (last writer wins)', () => {
    const store = roomy();
    expect(store.apply('k', v(2, 'new'))).toBe('applied');
    expect(store.apply('k', v(1, 'old'))).toBe('stale');
    expect(store.get('k')?.value).toBe('new');
    expect(store.apply('k', v(2, 'same-ts-other-node', 'n2'))).toBe('applied');
    expect(store.get('k')?.value).toBe('same-ts-other-node');
  });

  it('keeps a delete as a tombstone that an older value cannot undo', () => {
    const store = roomy();
    store.apply('k', v(1, 'value'));
    store.apply('k', v(2, null));
    expect(store.apply('k', v(1, 'value'))).toBe('stale');
    expect(store.get('k')).toEqual(v(2, null));
  });

  it('converges to the same state from any order and any repetition of the same writes', () => {
    const write = fc.record({
      key: fc.constantFrom('a', 'b', 'c'),
      wall: fc.integer({ min: 0, max: 20 }),
      node: fc.constantFrom('x', 'y'),
      deleted: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(write, { maxLength: 30, selector: (w) => `${w.key}|${w.wall}|${w.node}` }),
        fc.integer(),
        (writes, seed) => {
          // One timestamp, one write (as HLC + node id guarantee); the value is a function of the write.
          const versionOf = (w: (typeof writes)[number]) =>
            v(w.wall, w.deleted ? null : `${w.key}@${w.wall}/${w.node}`, w.node);
          const replayed = [...writes, ...writes.slice(0, 5)]
            .map((w, i) => ({ w, k: (Math.imul(i + 1, seed | 1) >>> 0) % 1000 }))
            .sort((p, q) => p.k - q.k)
            .map((p) => p.w);
          const a = roomy();
          const b = roomy();
          for (const w of writes) a.apply(w.key, versionOf(w));
          for (const w of replayed) b.apply(w.key, versionOf(w));
          expect(new Map(b.all())).toEqual(new Map(a.all()));
          expect(b.bytes).toBe(a.bytes);
        },
      ),
    );
  });

  it('refuses a new key beyond the key bound and keeps what it had', () => {
    const store = new StorageEngine({ maxKeys: 2, maxBytes: 1_000_000 });
    store.apply('a', v(1, 'x'));
    store.apply('b', v(1, 'x'));
    expect(() => store.apply('c', v(1, 'x'))).toThrow(StoreFullError);
    expect(() => store.apply('c', v(1, 'x'))).toThrow(/2 keys held, the bound is 2/);
    expect(store.apply('a', v(2, 'y'))).toBe('applied');
    expect(store.size).toBe(2);
  });

  it('refuses growth beyond the byte bound but accepts a write that shrinks an entry', () => {
    const small = entryBytes('k', v(1, 'x'));
    const store = new StorageEngine({ maxKeys: 10, maxBytes: small + 10 });
    store.apply('k', v(1, 'x'));
    expect(() => store.apply('k', v(2, 'x'.repeat(100)))).toThrow(/bytes used/);
    expect(store.get('k')?.value).toBe('x');
    expect(store.apply('k', v(3, null))).toBe('applied');
    expect(store.bytes).toBe(entryBytes('k', v(3, null)));
  });

  it('accounts bytes exactly through apply, remove and tombstone collection', () => {
    const store = roomy();
    store.apply('a', v(1, 'hello'));
    store.apply('b', v(5, null));
    store.apply('c', v(20, null));
    expect(store.bytes).toBe(
      entryBytes('a', v(1, 'hello')) + entryBytes('b', v(5, null)) + entryBytes('c', v(20, null)),
    );
    expect(store.collectTombstones(10)).toBe(1);
    expect(store.has('b')).toBe(false);
    expect(store.has('c')).toBe(true);
    expect(store.remove('a')).toBe(true);
    expect(store.remove('a')).toBe(false);
    expect(store.bytes).toBe(entryBytes('c', v(20, null)));
  });

  it('counts mutations so a caller can tell whether anything changed', () => {
    const store = roomy();
    const before = store.mutations;
    store.apply('a', v(1, 'x'));
    store.apply('a', v(0, 'old'));
    expect(store.mutations).toBe(before + 1);
  });
});
