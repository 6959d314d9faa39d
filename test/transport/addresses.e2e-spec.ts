import 'reflect-metadata';
import { afterAll, describe, expect, it } from '@jest/globals';
import { firstValueFrom, lastValueFrom, toArray, type Subscription } from 'rxjs';
import { GossipService, NodeUnavailableError, PartitionerService } from 'elastica';
import { GOSSIP_CHANNEL, type GossipChannel } from 'elastica/testing';
import { encodeEvent, encodeRefuse } from '../../libs/elastica/src/transport/frames.js';
import { TestHandlers } from './handlers.js';
import { freePort } from '../support/free-port.js';
import { closeStartedNodes, startTrackedNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';
import { RawPeer } from './raw-peer.js';
import { MAX_ALIASES } from '../../libs/elastica/src/transport/connection-registry.js';

const node = startTrackedNode;
afterAll(closeStartedNodes);

const channelOf = (n: TestNode) => n.app.get<GossipChannel>(GOSSIP_CHANNEL);
/** The one established connection, as "localPort->remotePort" (the same socket keeps the same pair). */
const socketOf = (n: TestNode) => n.transport.connections().map((c) => `${c.localPort}->${c.remotePort}`);
/** Spreads the sends over 0.5 s, as in the reported case (each gets time to trigger a handshake); it decides nothing. */
const pace = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('a peer reached under a second spelling of its address', () => {
  it.each([
    ['without a secret', 'plain', {}],
    // With a secret the dialer decides before its AUTH: the acceptor never commits the second connection.
    ['with a secret', 'auth', { secret: 'correct horse' }],
  ])(
    'keeps the one connection, %s: no replacement, no frame dropped, no call in flight failed',
    async (_, tag, options) => {
      const a = await node(`spell-a-${tag}`, options, [TestHandlers]);
      const b = await node(`spell-b-${tag}`, options, [TestHandlers]);
      await b.transport.connect(a.address);
      // with a secret, A is up once B's AUTH arrived
      await until('A connected to B', () => a.transport.connections().length === 1, 10_000, 20);
      const socketA = socketOf(a);
      const socketB = socketOf(b);
      expect(socketA).toHaveLength(1);

      const got: number[] = [];
      channelOf(b).onMessage((from, bytes) => {
        if (from === a.address) got.push(bytes[0]);
      });
      // Calls in flight both ways while A learns B's second name: a stream, and calls that never answer.
      const stream = lastValueFrom(a.client.send<number>(b.id, 'count', 80).pipe(toArray()));
      const failed: unknown[] = [];
      const hanging: Subscription[] = [];
      const startedOnA = a.app.get(TestHandlers).started;
      for (let i = 0; i < 3; i++)
        hanging.push(
          b.client.send(a.id, 'hang', null, { timeoutMs: 0 }).subscribe({ error: (e: unknown) => failed.push(e) }),
        );
      await until('the three calls started on A', () => a.app.get(TestHandlers).started === startedOnA + 3, 10_000, 20);

      // B advertises 127.0.0.1:P; A also sends to localhost:P (a seed written another way).
      const spellings = [`localhost:${b.port}`, b.address];
      for (let i = 0; i < 10; i++) {
        channelOf(a).send(spellings[i % 2], Uint8Array.of(i));
        await pace();
      }
      await until('the ten messages received', () => got.length >= 10, 5000, 20).catch(() => undefined);
      expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(a.transport.stats().gossipDropped).toBe(0);

      expect(await stream).toEqual(Array.from({ length: 80 }, (_, i) => i + 1));
      expect(failed).toEqual([]);
      for (const s of hanging) s.unsubscribe();

      // The same socket all along, on both sides, and nothing was ever replaced.
      expect(socketOf(a)).toEqual(socketA);
      expect(socketOf(b)).toEqual(socketB);
      expect(a.transport.stats().connectionsReplaced).toBe(0);
      expect(b.transport.stats().connectionsReplaced).toBe(0);
      // One dial under the second name, closed by A as a duplicate once B's HELLO named it; the name is
      // now an alias of B's entry, so connecting by it dials nothing.
      expect(a.transport.stats().refused.duplicate).toBe(1);
      expect(b.transport.stats().refusedByPeer.duplicate).toBe(1);
      expect(a.transport.stats().peers).toEqual([
        expect.objectContaining({ nodeId: b.id, aliases: [`localhost:${b.port}`] }),
      ]);
      expect(await a.transport.connect(`localhost:${b.port}`)).toBe(b.id);
      expect(socketOf(a)).toEqual(socketA);
    },
    30_000,
  );
  it('remembers at most MAX_ALIASES other names of one node, however many it answers at', async () => {
    const a = await node('many-a');
    // B listens on every loopback address (127.0.0.0/8) but advertises one.
    const port = await freePort();
    const b = await node('many-b', { bind: { host: '0.0.0.0', port }, advertise: { host: '127.0.0.1', port } }, [], {
      port,
    });
    await b.transport.connect(a.address);
    const socketA = socketOf(a);
    const got: number[] = [];
    channelOf(b).onMessage((from, bytes) => {
      if (from === a.address) got.push(bytes[0]);
    });
    const names = Array.from({ length: MAX_ALIASES + 4 }, (_, i) => `127.0.0.${i + 2}:${port}`);
    for (const [i, name] of [...names, names[0]].entries()) {
      channelOf(a).send(name, Uint8Array.of(i));
      await until('the message under this name received', () => got.length === i + 1, 10_000, 20);
    }
    expect(got).toEqual([...names, names[0]].map((_, i) => i));
    const [entry, ...others] = a.transport.stats().peers;
    expect(others).toEqual([]);
    expect(entry.nodeId).toBe('many-b');
    // The newest names, the first one again among them (forgotten, it was dialled and learned anew).
    expect(entry.aliases).toEqual([...names.slice(5), names[0]]);
    expect(socketOf(a)).toEqual(socketA);
    expect(a.transport.stats().gossipDropped).toBe(0);
    expect(a.transport.stats().connectionsReplaced + b.transport.stats().connectionsReplaced).toBe(0);
  }, 30_000);
  it("keeps the simultaneous-dial tie-break when one side dials another name: the loser's dial becomes an alias, nothing queued is lost", async () => {
    // A long handshake timeout: the refused dial must not be left to wait for it.
    const options = { rpc: { handshakeTimeoutMs: 60_000 } };
    const port = await freePort();
    // The smaller id: its dial wins. It listens on all of 127.0.0.0/8 and advertises 127.0.0.1.
    const x = await node(
      'tb-x',
      { ...options, bind: { host: '0.0.0.0', port }, advertise: { host: '127.0.0.1', port } },
      [TestHandlers],
      { port },
    );
    const y = await node('tb-y', options, [TestHandlers]);
    const got: number[] = [];
    channelOf(x).onMessage((from, bytes) => {
      if (from === y.address) got.push(bytes[0]);
    });
    const xName = `127.0.0.2:${x.port}`; // another name of x, needing no name lookup: both dials leave at once
    const dials = Promise.all([x.transport.connect(y.address), y.transport.connect(xName)]);
    for (let i = 0; i < 5; i++) channelOf(y).send(xName, Uint8Array.of(i)); // queued until a connection is up
    expect(await dials).toEqual(['tb-y', 'tb-x']);
    await until('the five messages received', () => got.length === 5, 10_000, 20);
    expect(got).toEqual([0, 1, 2, 3, 4]);
    // x turned y's first dial away (the tie-break); y's redial under the same name met the winner and
    // was closed by y itself as a duplicate.
    expect(x.transport.stats().refused.duplicate).toBe(1);
    expect(y.transport.stats().refused.duplicate).toBe(1);
    await until(
      'one connection at each end',
      () => x.transport.connections().length === 1 && y.transport.connections().length === 1,
      10_000,
      20,
    );
    const [cx] = x.transport.connections();
    const [cy] = y.transport.connections();
    expect([cx.localPort, cx.remotePort, cx.direction]).toEqual([cy.remotePort, cy.localPort, 'outbound']);
    expect(y.transport.stats().peers).toEqual([expect.objectContaining({ nodeId: 'tb-x', aliases: [xName] })]);
    expect(y.transport.stats().gossipDropped).toBe(0);
  }, 30_000);
});

describe('a node whose seed list names itself under another spelling', () => {
  it('goes up alone with its ring ready, and stops dialling itself', async () => {
    const port = await freePort();
    const id = 'self-seeded';
    // Binds and advertises 127.0.0.1:P; the seed says localhost:P.
    const n = await node(
      id,
      { seeds: [`localhost:${port}`], gossip: { intervalMs: 50, seedRetryMinMs: 50, seedRetryMaxMs: 200 } },
      [],
      { port },
    );
    const gossip = n.app.get(GossipService);
    await until('the node up in its own gossip', () => gossip.member(id)?.status === 'up', 10_000, 20);
    await n.app.get(PartitionerService).whenReady();
    expect(n.app.get(PartitionerService).getNode('any key')).toBe(id);
    // The seed's name is looked up, and its address is this node's own: it is never dialled.
    const heartbeat = gossip.member(id)!.heartbeat;
    await until('ten more heartbeats of the node', () => gossip.member(id)!.heartbeat >= heartbeat + 10, 10_000, 20);
    expect(n.transport.stats().refused.self).toBe(0);
    // A dial by the name itself (not gossip's) reaches this node, and is known as its own.
    await expect(n.transport.connect(`localhost:${port}`)).rejects.toThrow(/own address/);
    expect(n.transport.stats().selfAddresses).toEqual([`localhost:${port}`]);
  }, 30_000);
});

describe('a second connection from the same run of a node already connected', () => {
  const identity = async (nodeId: string) => ({
    cluster: 'elastica',
    nodeId,
    generation: Date.now(),
    advertise: `127.0.0.1:${await freePort()}`,
  });
  const remotePorts = (n: TestNode) => n.transport.connections().map((c) => c.remotePort);

  it('is held unused, and the first carries on when the dialer closes it as a duplicate', async () => {
    const n = await node('standby-n1', {}, [TestHandlers]);
    const me = await identity('raw-dup');
    const first = await RawPeer.member(n.port, me);
    const second = await RawPeer.member(n.port, me);
    expect(first.closed).toBe(false);
    expect(remotePorts(n)).toEqual([first.socket.localPort]);
    // What the node sends goes on the first connection only.
    await lastValueFrom(n.client.emit('raw-dup', 'note', 'one'), { defaultValue: undefined });
    await until(
      'the note on the first connection',
      () => first.frames.some((f) => 'pattern' in f && f.pattern === 'note'),
      10_000,
      20,
    );
    expect(second.frames.filter((f) => 'pattern' in f)).toEqual([]);

    second.write(encodeRefuse('duplicate', 'reached you under another name'));
    await until('the second connection closed', () => second.closed, 10_000, 20);
    expect(first.closed).toBe(false);
    expect(remotePorts(n)).toEqual([first.socket.localPort]);
    expect(n.transport.stats().connectionsReplaced).toBe(0);
    first.destroy();
  });

  it('replaces the first once the dialer sends on it (it had lost the first), failing what waited on the first', async () => {
    const n = await node('standby-n2', {}, [TestHandlers]);
    const me = await identity('raw-lost');
    const first = await RawPeer.member(n.port, me);
    const waiting = firstValueFrom(n.client.send('raw-lost', 'never.answered', null, { timeoutMs: 0 })).catch(
      (e: unknown) => e,
    );
    await until(
      'the call on the first connection',
      () => first.frames.some((f) => 'pattern' in f && f.pattern === 'never.answered'),
      10_000,
      20,
    );
    const second = await RawPeer.member(n.port, me);

    second.write(encodeEvent('note', 'via the second'));
    await until(
      'the note through the second connection',
      () => n.app.get(TestHandlers).events.includes('via the second from raw-lost'),
      10_000,
      20,
    );
    await until('the first connection closed', () => first.closed, 10_000, 20);
    expect(remotePorts(n)).toEqual([second.socket.localPort]);
    expect(n.transport.stats().connectionsReplaced).toBe(1);
    expect(await waiting).toBeInstanceOf(NodeUnavailableError);
    second.destroy();
  });
});
