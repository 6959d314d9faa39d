import { describe, expect, it } from '@jest/globals';
import { DEFAULT_KV_OPTIONS } from './kv-node.js';
import { InMemoryCluster } from './testing/in-memory-cluster.js';

const IDS = ['a', 'b', 'c', 'd', 'e'];

/**
 * A rolling restart moves a key's replica set while writes go on: the ring drops a down node and its
 * ranges go to the next nodes, then take them back when it returns (empty). A write acknowledged by a
 * majority of one replica set and a read from a majority of the next need not share a replica.
 */
describe('KvNode reads across a ring change', () => {
  function rollingScene(transitionMs: number) {
    const c = new InMemoryCluster(3, { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0, transitionMs });
    for (const id of IDS) c.add(id);
    const key = 'roll-w2-k18';
    const [x, y, z] = c.replicasOf(key);
    return { c, key, x, y, z };
  }

  async function roll(transitionMs: number) {
    const { c, key, x, y, z } = rollingScene(transitionMs);
    await c.node(y).write(key, 'v368');
    await c.settle(1); // x, y and z all hold v368
    c.remove(x); // x is SIGTERMed: the ring drops it, its ranges go to the next node w
    const w = c.replicasOf(key).find((id) => ![x, y, z].includes(id))!;
    expect(c.replicasOf(key).sort()).toEqual([y, z, w].sort());
    c.cut(z); // z misses the next write (slow, or briefly unreachable)
    const ack = await c.node(y).write(key, 'v418');
    expect(ack.acks.sort()).toEqual([y, w].sort());
    c.revive(z);
    c.add(x); // x restarts empty and takes its tokens back: the replicas are x, y, z again
    expect(c.replicasOf(key)).toEqual([x, y, z]);
    c.cut(y); // the roll moves on: y goes down before the ring has dropped it or anti-entropy ran
    c.nowMs += 1000;
    return { c, key, x, z };
  }

  it('a read right after the change still sees the last acknowledged write', async () => {
    const { c, key, x } = await roll(15_000);
    expect((await c.node(x).read(key))?.value).toBe('v418');
    await new Promise((r) => setTimeout(r, 10));
    expect(c.node(x).storage.get(key)?.value).toBe('v418'); // read repair brought it to the new replica
  });

  it('without the transition window the same read returns the older value (the bug)', async () => {
    const { c, key, x } = await roll(0);
    expect((await c.node(x).read(key))?.value).toBe('v368');
  });

  it('after the window, reads ask only the replicas again', async () => {
    const { c, key, z } = await roll(15_000);
    await c.settle(1); // anti-entropy moves v418 from w to x and z
    c.nowMs += 15_000;
    const before = c.messages;
    expect((await c.node(z).read(key))?.value).toBe('v418');
    expect(c.messages - before).toBeLessThanOrEqual(2); // x and y (down: not asked), not w
  });
});
