import { describe, expect, it } from '@jest/globals';
import { BadMessageError } from './kv-messages.js';
import { DEFAULT_KV_OPTIONS } from './kv-node.js';
import { QuorumError, TooFewReplicasUpError } from './quorum.js';
import { InMemoryCluster } from './testing/in-memory-cluster.js';

function cluster(ids: string[], options = { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0 }): InMemoryCluster {
  const c = new InMemoryCluster(3, options);
  for (const id of ids) c.add(id);
  return c;
}

const KEYS = Array.from({ length: 120 }, (_, i) => `key-${i}`);

async function load(c: InMemoryCluster, via: string[], keys = KEYS): Promise<void> {
  for (const [i, key] of keys.entries()) await c.node(via[i % via.length]).write(key, `value of ${key}`);
}

describe('KvNode replication (in-memory cluster)', () => {
  it('acknowledges a write on a majority of its replicas and serves it from any node', async () => {
    const c = cluster(['a', 'b', 'c', 'd', 'e']);
    const result = await c.node('a').write('k', 'v1');
    expect(result.acks.length).toBeGreaterThanOrEqual(2);
    for (const ack of result.acks) expect(c.replicasOf('k')).toContain(ack);
    for (const id of ['a', 'b', 'c', 'd', 'e']) expect((await c.node(id).read('k'))?.value).toBe('v1');
  });

  it('reaches every replica of a key, and only them', async () => {
    const c = cluster(['a', 'b', 'c', 'd', 'e']);
    await load(c, ['a', 'b', 'c', 'd', 'e']);
    await new Promise((r) => setImmediate(r));
    for (const key of KEYS) expect(c.holders(key).sort()).toEqual(c.replicasOf(key).sort());
  });

  it('a later write wins and a delete leaves a tombstone that reads as absent', async () => {
    const c = cluster(['a', 'b', 'c']);
    await c.node('a').write('k', 'first');
    await c.node('b').write('k', 'second');
    expect((await c.node('c').read('k'))?.value).toBe('second');
    await c.node('c').write('k', null);
    const read = await c.node('a').read('k');
    expect(read).toBeDefined();
    expect(read?.value).toBeNull();
  });

  it('keeps accepting writes and serving reads with one replica down, and fails with two', async () => {
    const c = cluster(['a', 'b', 'c']);
    c.kill('c'); // convicted: the ring drops it, as Elastica's does, so every key's live replicas are a and b
    expect(c.replicasOf('k')).toEqual(expect.arrayContaining(['a', 'b']));
    expect(c.replicasOf('k')).toHaveLength(2);
    const ack = await c.node('a').write('k', 'v');
    expect(ack.acks.sort()).toEqual(['a', 'b']);
    expect((await c.node('b').read('k'))?.value).toBe('v');
    c.kill('b'); // the ring is now a alone: one copy is not a majority of three
    expect(c.replicasOf('k2')).toEqual(['a']);
    await expect(c.node('a').write('k2', 'v')).rejects.toThrow(QuorumError);
    await expect(c.node('a').write('k2', 'v')).rejects.toThrow(
      /only 1 of the key's 3 replicas is up, and 2 must answer/,
    );
    expect(c.node('a').storage.get('k2')).toBeUndefined(); // refused before anything was written
    await expect(c.node('a').read('k')).rejects.toThrow(TooFewReplicasUpError);
    expect(c.node('a').stats().quorumFailures).toBe(3);
    c.revive('b');
    expect((await c.node('a').write('k2', 'v')).acks).toHaveLength(2);
  });

  it('needs a majority of the replication factor however many members are down (5 nodes, RF 3)', async () => {
    const c = cluster(['a', 'b', 'c', 'd', 'e']);
    c.kill('d');
    c.kill('e');
    for (const key of KEYS.slice(0, 20)) expect((await c.node('a').write(key, 'v')).acks).toHaveLength(2);
    c.kill('c'); // two members up: every key still has two live replicas, a majority of its three
    for (const key of KEYS.slice(0, 20)) expect((await c.node('b').read(key))?.value).toBe('v');
    c.kill('b');
    await expect(c.node('a').write('k', 'v')).rejects.toThrow(/only 1 of the key's 3 replicas is up/);
  });

  it('a cluster smaller than the replication factor needs a majority of its members', async () => {
    const one = cluster(['a']);
    expect((await one.node('a').write('k', 'v')).acks).toEqual(['a']); // 1 of 1
    expect((await one.node('a').read('k'))?.value).toBe('v');
    const two = cluster(['a', 'b']);
    expect((await two.node('a').write('k', 'v')).acks.sort()).toEqual(['a', 'b']); // 2 of 2
    two.kill('b');
    await expect(two.node('a').write('k', 'w')).rejects.toThrow(
      /only 1 of the key's 2 replicas is up, and 2 must answer/,
    );
    await expect(two.node('a').read('k')).rejects.toThrow(/only 1 of the key's 2 replicas is up/);
    two.remove('b'); // decommissioned for good: the cluster is one node now
    expect((await two.node('a').write('k', 'w')).acks).toEqual(['a']);
  });

  it('a member cut off but not yet convicted stays a replica: its calls fail, a majority still answers', async () => {
    const c = cluster(['a', 'b', 'c']);
    c.cut('c');
    expect(c.replicasOf('k')).toHaveLength(3);
    expect((await c.node('a').write('k', 'v')).acks.sort()).toEqual(['a', 'b']);
    c.cut('b');
    const failed = c.node('a').write('k', 'w');
    await expect(failed).rejects.toThrow(/of the 2 replica answers needed \(.*replica b is down/);
    await expect(failed).rejects.toThrow(/replica c is down/);
  });

  it('repairs a stale replica it sees during a read', async () => {
    const c = cluster(['a', 'b', 'c']);
    c.kill('c');
    await c.node('a').write('k', 'new');
    c.start('c'); // back, empty
    expect(c.node('c').storage.get('k')).toBeUndefined();
    expect((await c.node('c').read('k'))?.value).toBe('new');
    await new Promise((r) => setTimeout(r, 10));
    expect(c.node('c').storage.get('k')?.value).toBe('new');
    expect(c.node('c').stats().readRepairs).toBe(1);
  });

  it('a node that was down and restarts empty catches up through anti-entropy', async () => {
    const c = cluster(['a', 'b', 'c', 'd', 'e']);
    await load(c, ['a', 'b', 'c', 'd', 'e'], KEYS.slice(0, 40));
    c.kill('e');
    await load(c, ['a', 'b', 'c', 'd'], KEYS.slice(40));
    c.start('e');
    expect(c.node('e').storage.size).toBe(0);
    await c.settle(1);
    const mine = KEYS.filter((k) => c.replicasOf(k).includes('e'));
    expect(mine.length).toBeGreaterThan(0);
    for (const key of mine) expect(c.node('e').storage.get(key)?.value).toBe(`value of ${key}`);
    expect(c.node('e').storage.size).toBe(mine.length);
  });

  it('anti-entropy sends nothing but digests once replicas agree', async () => {
    const c = cluster(['a', 'b', 'c', 'd']);
    await load(c, ['a', 'b']);
    await c.settle(1);
    const before = c.messages;
    await c.settle(1);
    expect(c.messages - before).toBe(4 * 3); // one digest per (node, peer), nothing else
  });

  it('a node joining a loaded cluster receives its ranges, and old copies go away', async () => {
    const c = cluster(['a', 'b', 'c', 'd']);
    await load(c, ['a', 'b', 'c', 'd']);
    c.add('e');
    await c.settle(2);
    const mine = KEYS.filter((k) => c.replicasOf(k).includes('e'));
    expect(mine.length).toBeGreaterThan(10);
    for (const key of KEYS) {
      expect(c.holders(key).sort()).toEqual(c.replicasOf(key).sort());
      expect((await c.node('e').read(key))?.value).toBe(`value of ${key}`);
    }
    expect(
      c.node('a').stats().orphansDropped +
        c.node('b').stats().orphansDropped +
        c.node('c').stats().orphansDropped +
        c.node('d').stats().orphansDropped,
    ).toBeGreaterThan(0);
  });

  it('keeps orphaned copies until the ring has been still for the grace period', async () => {
    const c = cluster(['a', 'b', 'c', 'd'], { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 5000 });
    await load(c, ['a']);
    c.add('e');
    await c.settle(1);
    const total = () => [...c.nodes.values()].reduce((n, node) => n + node.storage.size, 0);
    expect(total()).toBeGreaterThan(KEYS.length * 3);
    c.nowMs += 5000;
    await c.settle(1);
    expect(total()).toBe(KEYS.length * 3);
  });

  it('a decommission hands every key to the replicas it has without the leaving node', async () => {
    const c = cluster(['a', 'b', 'c', 'd', 'e']);
    await load(c, ['a', 'b', 'c', 'd', 'e']);
    const result = await c.node('c').handOffAll();
    expect(result.failedTargets).toEqual([]);
    expect(result.sent).toBeGreaterThan(0);
    c.remove('c');
    for (const key of KEYS) {
      expect(c.holders(key).length).toBeGreaterThanOrEqual(2);
      expect((await c.node('a').read(key))?.value).toBe(`value of ${key}`);
    }
    await c.settle(1);
    for (const key of KEYS) expect(c.holders(key).sort()).toEqual(c.replicasOf(key).sort());
  });

  it('pulls in bounded batches when values are large', async () => {
    const c = cluster(['a', 'b', 'c'], { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0, batchBytes: 4096 });
    c.kill('c');
    for (let i = 0; i < 20; i++) await c.node('a').write(`big-${i}`, 'x'.repeat(1000));
    c.start('c');
    await c.node('c').syncWith('a');
    expect(c.node('c').storage.size).toBe(20);
  });

  it('refuses a malformed peer message with a clear error and counts it', () => {
    const c = cluster(['a', 'b', 'c']);
    const node = c.node('a');
    expect(() => node.onPut({ key: '', v: {} })).toThrow(BadMessageError);
    expect(() => node.onPut({ key: 'k', v: { ts: { wall: -1, logical: 0, node: 'b' }, value: 'x' } })).toThrow(
      /wall -1/,
    );
    expect(() =>
      node.onPut({ key: 'k'.repeat(300), v: { ts: { wall: 1, logical: 0, node: 'b' }, value: 'x' } }),
    ).toThrow(/300 bytes, at most 256/);
    expect(() => node.onPush({ entries: 'nope' })).toThrow(/entries must be an array/);
    expect(() => node.onDigest('b', { buckets: [[1, 2]] })).toThrow(/expected 64 buckets/);
    expect(() => node.onPull(null)).toThrow(/expected \{ keys \}/);
    const zeros = Array.from({ length: 64 }, () => [0, 0, 0]);
    expect(() => node.onDigest('b', { buckets: zeros, after: [-1, 'k'] })).toThrow(
      /after hash -1 is not an unsigned 32-bit integer/,
    );
    expect(() => node.onDigest('b', { buckets: zeros, after: [1, ''] })).toThrow(/non-empty string/);
    expect(node.onDigest('b', { buckets: zeros, after: [1, 'k'] })).toEqual({
      buckets: [],
      summaries: [],
      truncated: false,
    });
    expect(node.stats().badMessages).toBe(8);
    expect(node.storage.size).toBe(0);
  });

  it('refuses a version stamped far in the future (it would win every later write)', () => {
    const c = cluster(['a', 'b', 'c']);
    expect(() =>
      c.node('a').onPut({ key: 'k', v: { ts: { wall: c.nowMs + 3600_000, logical: 0, node: 'b' }, value: 'x' } }),
    ).toThrow(/ahead of this node's clock/);
    expect(c.node('a').stats().refusedWrites).toBe(1);
  });

  it('fails a write that a majority of replicas refuse because they are full', async () => {
    const c = cluster(['a', 'b', 'c'], { ...DEFAULT_KV_OPTIONS, storage: { maxKeys: 2, maxBytes: 1e6 } });
    await c.node('a').write('k1', 'v');
    await c.node('a').write('k2', 'v');
    await expect(c.node('a').write('k3', 'v')).rejects.toThrow(/store is full/);
    expect((await c.node('b').read('k1'))?.value).toBe('v');
  });

  it('collects tombstones after the grace period', async () => {
    const c = cluster(['a'], { ...DEFAULT_KV_OPTIONS, tombstoneGraceMs: 1000 });
    await c.node('a').write('k', null);
    expect(c.node('a').collectGarbage()).toBe(0);
    c.nowMs += 1001;
    expect(c.node('a').collectGarbage()).toBe(1);
    expect(c.node('a').storage.size).toBe(0);
  });
});
