import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom } from 'rxjs';
import { GOSSIP_CHANNEL, GossipService, type GossipChannel } from 'elastica';
import { TestHandlers } from './transport/handlers.js';
import { eventually, startNode, type TestNode } from './transport/nodes.js';

/**
 * Hostile gossip from a member (it holds the secret, so the transport lets it in): claims about OTHER
 * nodes with absurd generations or versions, and oversized application state. Written against the
 * contract (GossipService.members(), set(), get()); the wire format of gossip is not merged on this
 * branch, so the bytes are produced by a real GossipService on the hostile node, bent by the test.
 *
 * Skipped until the gossip service merges: the placeholder knows only itself and gossips nothing.
 */
describe('hostile gossip (enabled at merge with gossip)', () => {
  const started: TestNode[] = [];
  let a: TestNode;
  let b: TestNode;
  let evil: TestNode;
  const opts = { cluster: 'c', secret: 's', gossip: { intervalMs: 100 } };
  beforeAll(async () => {
    a = await startNode('node-a', { ...opts, seeds: [] }, [TestHandlers]);
    b = await startNode('node-b', { ...opts, seeds: [a.address] }, [TestHandlers]);
    evil = await startNode('node-evil', { ...opts, seeds: [a.address] }, [TestHandlers]);
    started.push(a, b, evil);
    await eventually(() => a.app.get(GossipService).members().filter((m) => m.status === 'up').length === 3, 15_000, 50);
  });
  afterAll(async () => {
    await Promise.all(started.map((n) => n.close()));
  });

  /** Sends what evil's gossip would send, with every number that names node-b's generation or versions replaced. */
  function forgeAboutB(rewrite: (field: string, value: number) => number): void {
    const channel = evil.app.get<GossipChannel>(GOSSIP_CHANNEL);
    const original = channel.send.bind(channel);
    channel.send = (to, bytes) => {
      const text = Buffer.from(bytes).toString('utf8');
      // gossip digests and deltas carry generation/version/heartbeat numbers next to node-b's id
      const bent = text.replace(/"(generation|version|heartbeat|maxVersion)":(\d+)/g, (_, f: string, v: string) => `"${f}":${rewrite(f, Number(v))}`);
      original(to, Buffer.from(bent));
    };
  }

  it('ignores a generation for another node far in the future, and keeps node-b up with its real one', async () => {
    const realGeneration = a.app.get(GossipService).member('node-b')!.generation;
    forgeAboutB((f, v) => (f === 'generation' ? Date.now() + 10 * 365 * 24 * 3600_000 : v));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const seen = a.app.get(GossipService).member('node-b')!;
    expect(seen.generation).toBe(realGeneration);
    expect(seen.status).toBe('up');
    expect(await firstValueFrom(a.client.send('node-b', 'echo', 1))).toEqual({ data: 1, sender: 'node-a', pattern: 'echo' });
  });

  it('does not let absurd versions for another node freeze its state: node-b\'s next set() still arrives', async () => {
    forgeAboutB((f, v) => (f === 'version' || f === 'maxVersion' ? Number.MAX_SAFE_INTEGER : v));
    b.app.get(GossipService).set('probe', 'after-forgery');
    await eventually(() => a.app.get(GossipService).get('node-b', 'probe') === 'after-forgery', 10_000, 50);
  });

  it('bounds oversized application state: a huge value is refused, the cluster keeps converging', async () => {
    const huge = 'x'.repeat(2 * 1024 * 1024);
    expect(() => evil.app.get(GossipService).set('blob', huge)).toThrow();
    b.app.get(GossipService).set('small', 'ok');
    await eventually(() => a.app.get(GossipService).get('node-b', 'small') === 'ok', 10_000, 50);
    expect(a.app.get(GossipService).get('node-evil', 'blob')).toBeUndefined();
    const rss = process.memoryUsage().rss;
    expect(rss).toBeLessThan(1024 * 1024 * 1024);
  });
});
