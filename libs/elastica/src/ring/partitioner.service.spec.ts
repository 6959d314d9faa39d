import 'reflect-metadata';
import { afterEach, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import { GossipService } from '../gossip/gossip.service.js';
import { ElasticaModule } from '../module/elastica.module.js';
import type { PartitionerOptions } from '../options/elastica-options.js';
import { RingNotReadyError } from '../errors/ring-not-ready.error.js';
import { PartitionerService } from './partitioner.service.js';
import type { RingChange } from './ring.types.js';
import { decodeTokens, TOKENS_KEY } from './token-codec.js';
import { MembershipHub } from './testing/membership-hub.js';

const KEYS = Array.from({ length: 500 }, (_, i) => `key-${i}`);
const open: TestingModule[] = [];

async function startNode(
  hub: MembershipHub,
  id: string,
  generation: number,
  partitioner: Partial<PartitionerOptions> = {},
  status = 'up',
  intervalMs = 20,
) {
  hub.start(id, generation, status);
  // Port 0 and a seed nobody listens on: this suite opens no socket, and the node is not alone.
  const moduleRef = await Test.createTestingModule({
    imports: [
      ElasticaModule.forRoot({
        nodeId: id,
        bind: { port: 0 },
        seeds: ['127.0.0.1:9'],
        gossip: { intervalMs },
        partitioner,
      }),
    ],
  })
    .overrideProvider(GossipService)
    .useValue(hub.view(id))
    .compile();
  await moduleRef.init();
  open.push(moduleRef);
  const partitioner$ = moduleRef.get(PartitionerService);
  return { id, moduleRef, p: partitioner$ };
}

type Node = Awaited<ReturnType<typeof startNode>>;

/** Three nodes started one after the other, each once the previous one has chosen its tokens. */
async function startThree(hub: MembershipHub): Promise<[Node, Node, Node]> {
  const nodes: Node[] = [];
  for (const id of ['a', 'b', 'c']) {
    const n = await startNode(hub, id, 1);
    await n.p.whenReady();
    nodes.push(n);
  }
  return nodes as [Node, Node, Node];
}

async function stop(moduleRef: TestingModule) {
  open.splice(open.indexOf(moduleRef), 1);
  await moduleRef.close();
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function agree(nodes: { p: PartitionerService }[], owners: string[]) {
  const sums = new Set(nodes.map((n) => n.p.checksum));
  if (sums.size !== 1) return false;
  return nodes.every((n) => n.p.ring.nodeIds.join() === [...owners].sort().join());
}

afterEach(async () => {
  for (const m of open.splice(0)) await m.close();
});

describe('PartitionerService on a shared membership', () => {
  it('three nodes choose tokens, agree on every key and share the ring evenly', async () => {
    const hub = new MembershipHub();
    const a = await startNode(hub, 'a', 1);
    expect(() => a.p.getNode('k')).toThrow(RingNotReadyError);
    await a.p.whenReady();
    const b = await startNode(hub, 'b', 1);
    await b.p.whenReady();
    const c = await startNode(hub, 'c', 1);
    await c.p.whenReady();
    const nodes = [a, b, c];
    await waitFor('the same ring everywhere', () => agree(nodes, ['a', 'b', 'c']));
    for (const key of KEYS) {
      const owner = a.p.getNode(key);
      expect(b.p.getNode(key)).toBe(owner);
      expect(c.p.getNode(key)).toBe(owner);
      expect(nodes.filter((n) => n.p.isLocal(key)).map((n) => n.id)).toEqual([owner]);
      const replicas = b.p.getReplicas(key);
      expect(replicas[0]).toBe(owner);
      expect(new Set(replicas).size).toBe(3);
    }
    for (const share of Object.values(a.p.ownership())) expect(share).toBeGreaterThan(0.3);
    expect(a.p.getRanges('b')).toHaveLength(16);
    expect(a.p.tokens).toEqual(decodeTokens(hub.view('x').get('a', TOKENS_KEY)!));
    expect(() => a.p.getNodeForToken(-1)).toThrow(RangeError);
  });

  it('nodes started together hold one ring before their tokens settle, settling moves nothing, evenly divided', async () => {
    const hub = new MembershipHub();
    // 200 ms rounds: they own their parts after one, settle after five more.
    const nodes = await Promise.all(['c', 'a', 'b'].map((id) => startNode(hub, id, 1, {}, 'up', 200)));
    await waitFor('agreement', () => agree(nodes, ['a', 'b', 'c']));
    const changes: RingChange[] = [];
    for (const n of nodes) n.p.ring$.subscribe((c) => changes.push(c));
    await Promise.all(nodes.map((n) => n.p.whenReady()));
    expect(changes).toEqual([]);
    expect(agree(nodes, ['a', 'b', 'c'])).toBe(true);
    // One cohort plan, as if they had joined in id order: a third each, give or take the allocation's jitter.
    for (const share of Object.values(nodes[0].p.ownership())) expect(Math.abs(share - 1 / 3)).toBeLessThan(0.01);
    expect(nodes[0].p.ring.collisions).toEqual([]);
  });

  it('a node going down drops out, coming back gets its ranges back, and ring$ says what moved', async () => {
    const hub = new MembershipHub();
    const nodes = await startThree(hub);
    const [a, b] = nodes;
    await waitFor('agreement', () => agree(nodes, ['a', 'b', 'c']));
    const original = a.p.checksum;
    const cShare = a.p.ownership()['c'];
    const seen: RingChange[] = [];
    const sub = a.p.ring$.subscribe((c) => seen.push(c));
    hub.setStatus('c', 'down');
    await waitFor('c dropped', () => agree([a, b], ['a', 'b']));
    const drop = seen.at(-1)!;
    expect(drop.moved.length).toBeGreaterThan(0);
    expect(drop.moved.every((m) => m.from === 'c' && (m.to === 'a' || m.to === 'b'))).toBe(true);
    expect(drop.nodes).toEqual(['a', 'b']);
    hub.setStatus('c', 'up');
    await waitFor('c back', () => agree(nodes, ['a', 'b', 'c']));
    expect(a.p.checksum).toBe(original);
    expect(a.p.ownership()['c']).toBeCloseTo(cShare, 12);
    expect(seen.at(-1)!.moved.every((m) => m.to === 'c')).toBe(true);
    sub.unsubscribe();
  });

  it('a restarted node gets the tokens of its previous run back from a peer', async () => {
    const hub = new MembershipHub();
    const nodes = await startThree(hub);
    await waitFor('agreement', () => agree(nodes, ['a', 'b', 'c']));
    const before = nodes[1].p.tokens;
    const checksum = nodes[0].p.checksum;
    await stop(nodes[1].moduleRef);
    hub.setStatus('b', 'down');
    const b2 = await startNode(hub, 'b', 2, {}, 'joining');
    await b2.p.whenReady();
    expect(b2.p.tokens).toEqual(before);
    hub.setStatus('b', 'up');
    await waitFor('agreement after restart', () => agree([nodes[0], b2, nodes[2]], ['a', 'b', 'c']));
    expect(b2.p.checksum).toBe(checksum);
    // The handback is withdrawn once b has its tokens.
    await waitFor('handback withdrawn', () =>
      hub
        .view('x')
        .members()
        .every((m) => !m.state['elastica.handback.b']),
    );
  });

  it('a node started to replace a down one takes over its tokens in one step', async () => {
    const hub = new MembershipHub();
    const nodes = await startThree(hub);
    await waitFor('agreement', () => agree(nodes, ['a', 'b', 'c']));
    const cTokens = nodes[2].p.tokens;
    const cRanges = nodes[0].p.getRanges('c');
    await stop(nodes[2].moduleRef);
    hub.setStatus('c', 'down');
    const d = await startNode(hub, 'd', 1, { replaces: 'c' });
    await d.p.whenReady();
    expect(d.p.tokens).toEqual(cTokens);
    await waitFor("d in c's place", () => agree([nodes[0], nodes[1], d], ['a', 'b', 'd']));
    expect(nodes[0].p.getRanges('d')).toEqual(cRanges);
    // c coming back does not take them again: it was replaced.
    hub.setStatus('c', 'up');
    for (const n of [nodes[0], nodes[1], d]) n.p.tick();
    expect(agree([nodes[0], nodes[1], d], ['a', 'b', 'd'])).toBe(true);
  });

  it('a leaving node owns until it has left; the rest agree after', async () => {
    const hub = new MembershipHub();
    const nodes = await startThree(hub);
    await waitFor('agreement', () => agree(nodes, ['a', 'b', 'c']));
    hub.setStatus('a', 'leaving');
    for (const n of nodes) n.p.tick();
    expect(agree(nodes, ['a', 'b', 'c'])).toBe(true);
    hub.setStatus('a', 'left');
    await waitFor('a gone', () => agree(nodes.slice(1), ['b', 'c']));
    for (const key of KEYS) expect(nodes[1].p.getNode(key)).toBe(nodes[2].p.getNode(key));
  });

  it('reportLoad gossips the load (when it moves by more than 1%) and refuses nonsense', async () => {
    const hub = new MembershipHub();
    const a = await startNode(hub, 'a', 1);
    await a.p.whenReady();
    expect(a.p.tokenPhase).toBe('settled');
    a.p.reportLoad(1000);
    // Published once it has seen nobody joining, and it has been steady, for the settle wait (5 rounds of 20 ms here).
    await waitFor('the load published', () => hub.view('x').get('a', 'elastica.load') === '1000');
    a.p.reportLoad(1005);
    expect(hub.view('x').get('a', 'elastica.load')).toBe('1000');
    a.p.reportLoad(2000);
    // A load that moved by over 5% is published once it has held for the settle wait.
    expect(hub.view('x').get('a', 'elastica.load')).toBe('1000');
    await waitFor('the new load published', () => hub.view('x').get('a', 'elastica.load') === '2000');
    expect(a.p.load).toBe(2000);
    for (const bad of [-1, NaN, Infinity]) expect(() => a.p.reportLoad(bad)).toThrow(RangeError);
  });

  it('holds a load back while it sees a joiner, whose plan weighs the settled ring, and publishes it after', async () => {
    const hub = new MembershipHub();
    const a = await startNode(hub, 'a', 1, {}, 'up', 200);
    await a.p.whenReady();
    const b = await startNode(hub, 'b', 1, {}, 'up', 200);
    await waitFor('a to count b in', () => a.p.ring.nodeIds.includes('b'));
    a.p.reportLoad(500);
    expect(hub.view('x').get('a', 'elastica.load')).toBeUndefined();
    await b.p.whenReady();
    await waitFor('the load published', () => hub.view('x').get('a', 'elastica.load') === '500');
  });

  it('counts and ignores a peer whose tokens cannot be read', async () => {
    const hub = new MembershipHub();
    const a = await startNode(hub, 'a', 1);
    await a.p.whenReady();
    hub.start('bad', 1);
    hub.set('bad', TOKENS_KEY, 'not tokens');
    await waitFor('counted', () => a.p.invalidTokenStates === 1);
    expect(a.p.ring.nodeIds).toEqual(['a']);
    expect(a.p.getNode('x')).toBe('a');
  });
});
