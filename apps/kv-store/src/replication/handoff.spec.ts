import { describe, expect, it } from '@jest/globals';
import { DEFAULT_KV_OPTIONS, type KvNode } from './kv-node.js';
import { InMemoryCluster } from './testing/in-memory-cluster.js';

/**
 * Handing copies over (a decommission, or copies a node no longer replicates) counts a copy as
 * delivered only when its target says it holds it: a target may refuse entries (its store is full, a
 * version too far ahead of its clock), and a copy refused must not be dropped here nor reported sent.
 */
const MAX_KEYS = 100;
const KEYS = Array.from({ length: 60 }, (_, i) => `key-${i}`);

function cluster(ids: string[]): InMemoryCluster {
  const c = new InMemoryCluster(3, {
    ...DEFAULT_KV_OPTIONS,
    orphanGraceMs: 0,
    storage: { maxKeys: MAX_KEYS, maxBytes: 1e6 },
  });
  for (const id of ids) c.add(id);
  return c;
}

async function load(c: InMemoryCluster, via: string): Promise<void> {
  for (const key of KEYS) await c.node(via).write(key, `value of ${key}`);
  await new Promise((resolve) => setImmediate(resolve));
}

/** Fills a node's store to its bound with keys nobody else has, so it refuses every new key. */
function fill(node: KvNode, now: number): void {
  for (let i = 0; node.storage.size < MAX_KEYS; i++)
    node.storage.apply(`filler-${i}`, { ts: { wall: now, logical: 0, node: 'filler' }, value: 'x' });
}

describe('KvNode handoff when a target refuses copies', () => {
  it('a decommission counts only what the targets accepted, and names the target that refused', async () => {
    const c = cluster(['a', 'b', 'c', 'd']);
    await load(c, 'a');
    const full = c.node('d');
    fill(full, c.nowMs);
    // The keys c holds that d would replicate without c and does not hold yet: d must refuse them all.
    const refused = KEYS.filter(
      (k) => c.node('c').storage.has(k) && c.replicasOf(k, ['a', 'b', 'd']).includes('d') && !full.storage.has(k),
    );
    expect(refused.length).toBeGreaterThan(0);
    const result = await c.node('c').handOffAll();
    expect(result.failedTargets).toEqual(['d']);
    expect(result.undelivered).toBe(refused.length);
    expect(result.unplaced).toBe(0);
    expect(result.complete).toBe(false);
    for (const key of refused) expect(full.storage.has(key)).toBe(false);
    // What was sent is what the targets now hold: every copy planned, minus the refused ones.
    const planned = KEYS.filter((k) => c.node('c').storage.has(k)).reduce(
      (n, k) => n + c.replicasOf(k, ['a', 'b', 'd']).length,
      0,
    );
    expect(result.sent).toBe(planned - refused.length);
  });

  it('a decommission with room everywhere is complete', async () => {
    const c = cluster(['a', 'b', 'c', 'd']);
    await load(c, 'a');
    const result = await c.node('c').handOffAll();
    expect(result).toMatchObject({ failedTargets: [], undelivered: 0, unplaced: 0, complete: true });
  });

  it('a decommission with nobody to hand a key to says the key stays unplaced', async () => {
    const c = cluster(['a']);
    await c.node('a').write('k', 'v');
    const result = await c.node('a').handOffAll();
    expect(result).toMatchObject({ keys: 1, sent: 0, unplaced: 1, complete: false });
  });

  it('a copy a new replica refused is not dropped by the node that no longer replicates it', async () => {
    const c = cluster(['a', 'b', 'c']);
    await load(c, 'a'); // three nodes, three replicas: everyone holds every key
    const d = c.add('d', { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0, storage: { maxKeys: 0, maxBytes: 1e6 } }); // refuses everything
    const movedToD = KEYS.filter((k) => c.replicasOf(k).includes('d'));
    expect(movedToD.length).toBeGreaterThan(0);
    await c.settle(2);
    // d refused them all; the node each of them left keeps its copy, so every key still has three.
    expect(d.stats().refusedWrites).toBeGreaterThan(0);
    for (const key of movedToD) {
      expect(d.storage.has(key)).toBe(false);
      expect({ key, copies: c.holders(key).length }).toEqual({ key, copies: 3 });
    }
    expect(['a', 'b', 'c'].reduce((n, id) => n + c.node(id).stats().orphansDropped, 0)).toBe(0);
    // d restarts with room: the copies go to it, and only then leave the nodes that no longer replicate them.
    c.start('d');
    await c.settle(2);
    for (const key of KEYS) expect(c.holders(key).sort()).toEqual(c.replicasOf(key).sort());
    expect(['a', 'b', 'c'].reduce((n, id) => n + c.node(id).stats().orphansDropped, 0)).toBe(movedToD.length);
  });
});

describe('KvNode handoff to a returning replica', () => {
  it('sends the values it missed, not all it holds: the rest are only offered (key and timestamp)', async () => {
    const c = new InMemoryCluster(3, { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0 });
    for (const id of ['a', 'b', 'c', 'd', 'e']) c.add(id);
    await load(c, 'a');
    await c.settle();
    // e is down long enough for its ranges to move to the next nodes, which get copies of its keys.
    c.kill('e');
    await c.settle();
    for (let i = 0; i < 5; i++) await c.node('a').write(`missed-${i}`, 'late');
    await c.settle();
    const held = c.node('e').storage.size;
    expect(held).toBeGreaterThan(10);
    c.revive('e');
    await c.settle(3);
    const missed = Array.from({ length: 5 }, (_, i) => `missed-${i}`).filter((k) => c.replicasOf(k).includes('e'));
    for (const key of missed) expect(c.node('e').storage.get(key)?.value).toBe('late');
    // Each value it missed came at most once from each of the nodes that held its ranges meanwhile.
    expect(c.node('e').stats().syncEntriesIn).toBeLessThanOrEqual(4 * missed.length);
  });
});
