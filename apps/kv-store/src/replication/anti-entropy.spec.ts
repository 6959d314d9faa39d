import { describe, expect, it } from '@jest/globals';
import { DEFAULT_KV_OPTIONS, type KvNode, type KvNodeOptions } from './kv-node.js';
import { InMemoryCluster } from './testing/in-memory-cluster.js';

/**
 * Anti-entropy when the differing keys outnumber what one digest reply may list (`maxSummaries`):
 * every key must still be compared, within a bounded number of rounds, whatever the key count.
 */
describe('KvNode anti-entropy with listings cut off at maxSummaries', () => {
  function cluster(ids: string[], rf: number, options: Partial<KvNodeOptions>): InMemoryCluster {
    const c = new InMemoryCluster(rf, { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0, ...options });
    for (const id of ids) c.add(id);
    return c;
  }

  /** Runs placement rounds until `done` holds; returns how many it took (or `max + 1`). */
  async function roundsUntil(c: InMemoryCluster, done: () => boolean, max: number): Promise<number> {
    for (let round = 1; round <= max; round++) {
      await c.settle(1);
      if (done()) return round;
    }
    return max + 1;
  }

  it('a replica that missed the latest write of every key is fully repaired (200 keys, 50 per listing)', async () => {
    const c = cluster(['a', 'b', 'r'], 3, { maxSummaries: 50 });
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
    for (const key of keys) await c.node('a').write(key, 'old');
    await new Promise((resolve) => setImmediate(resolve));
    c.cut('r'); // unreachable, not yet convicted: the writes still go to a and b, and r misses every one
    for (const key of keys) await c.node('a').write(key, 'new');
    c.revive('r');
    const stale = () => keys.filter((key) => c.node('r').storage.get(key)?.value !== 'new');
    expect(stale()).toHaveLength(200);
    // Each round r lists (and is listed) 50 keys further on per peer: 200 keys need at most 4 rounds.
    const rounds = await roundsUntil(c, () => stale().length === 0, 10);
    expect(stale()).toEqual([]);
    expect(rounds).toBeLessThanOrEqual(Math.ceil(keys.length / 50));
  });

  it('two replicas that each lack and each have newer keys converge, whatever the listing bound', async () => {
    const c = cluster(['a', 'b'], 2, { maxSummaries: 40 });
    const [a, b] = [c.node('a'), c.node('b')];
    const put = (node: KvNode, key: string, wall: number) =>
      node.storage.apply(key, { ts: { wall, logical: 0, node: 'w' }, value: `${key}@${wall}` });
    const t = c.nowMs - 10_000;
    for (let i = 0; i < 200; i++) put(a, `k${i}`, t); // a: k0..k199
    for (let i = 100; i < 300; i++) put(b, `k${i}`, t + 1); // b: k100..k299, newer where they overlap
    const agree = () =>
      a.storage.size === 300 &&
      b.storage.size === 300 &&
      [...a.storage.all()].every(([key, v]) => b.storage.get(key)?.value === v.value);
    // 300 keys, 40 listed per reply: a full pass of either side's listing takes 8 rounds.
    const rounds = await roundsUntil(c, agree, 20);
    expect(rounds).toBeLessThanOrEqual(Math.ceil(300 / 40));
    for (let i = 0; i < 300; i++) expect(a.storage.get(`k${i}`)?.value).toBe(i < 100 ? `k${i}@${t}` : `k${i}@${t + 1}`);
  });

  it("the audit's case: 12,000 shared keys, the default bound of 5,000 per listing", async () => {
    const c = cluster(['a', 'r'], 2, {});
    const t = c.nowMs - 10_000;
    const keys = Array.from({ length: 12_000 }, (_, i) => `key-${i}`);
    for (const key of keys) {
      c.node('r').storage.apply(key, { ts: { wall: t, logical: 0, node: 'w' }, value: 'old' });
      c.node('a').storage.apply(key, { ts: { wall: t + 1, logical: 0, node: 'w' }, value: 'new' });
    }
    const stale = () => keys.filter((key) => c.node('r').storage.get(key)?.value !== 'new').length;
    const rounds = await roundsUntil(c, () => stale() === 0, 10);
    expect(stale()).toBe(0);
    expect(rounds).toBeLessThanOrEqual(Math.ceil(12_000 / DEFAULT_KV_OPTIONS.maxSummaries));
  });

  it('once replicas agree, the cursor does not cost anything: one digest per peer and round', async () => {
    const c = cluster(['a', 'b', 'r'], 3, { maxSummaries: 10 });
    for (let i = 0; i < 100; i++) await c.node('a').write(`key-${i}`, 'v');
    await c.settle(3);
    const before = c.messages;
    await c.settle(1);
    expect(c.messages - before).toBe(3 * 2);
  });
});
