import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Inject } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import {
  ClusterContext,
  ClusterMessage,
  FrameTooLargeError,
  GossipService,
  NodeUnavailableError,
  PartitionerService,
  QueueFullError,
  RemoteError,
  RpcTimeoutError,
  UnknownNodeError,
} from 'elastica';
import { LOCAL_NODE, type LocalNode } from 'elastica/testing';
import { TestHandlers } from './handlers.js';
import { freePort } from '../support/free-port.js';
import { startNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';

describe('cluster RPC between two real Nest apps', () => {
  let a: TestNode;
  let b: TestNode;
  const handlersOf = (node: TestNode) => node.app.get(TestHandlers);

  beforeAll(async () => {
    a = await startNode('node-a', {}, [TestHandlers]);
    b = await startNode('node-b', { rpc: { maxInFlight: 3 } }, [TestHandlers]);
    expect(await a.transport.connect(b.address)).toBe('node-b');
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it("answers a request with the handler's value, and the context names the sender and pattern", async () => {
    const reply = await firstValueFrom(a.client.send('node-b', 'echo', { key: 'k', n: 1 }));
    expect(reply).toEqual({ data: { key: 'k', n: 1 }, sender: 'node-a', pattern: 'echo' });
    // the reverse direction rides the same connection (B never dialled A)
    expect(await firstValueFrom(b.client.send('node-a', 'echo', 'hi'))).toEqual({
      data: 'hi',
      sender: 'node-b',
      pattern: 'echo',
    });
    expect(a.transport.connections()).toHaveLength(1);
    expect(b.transport.connections()).toHaveLength(1);
  });

  it('awaits a Promise, and matches object patterns as Nest does', async () => {
    expect(await firstValueFrom(a.client.send('node-b', { cmd: 'double' }, 21))).toBe(42);
  });

  it('streams an Observable back value by value', async () => {
    expect(await lastValueFrom(a.client.send<number>('node-b', 'count', 5).pipe(toArray()))).toEqual([1, 2, 3, 4, 5]);
  });

  it('delivers each streamed value as it is made, and unsubscribing stops the stream on the far side', async () => {
    const h = handlersOf(b);
    const cancelled = h.cancelled;
    // 'ticks' never completes: the caller can only see values that travelled one by one.
    const firstThree = await lastValueFrom(
      a.client.send<number>('node-b', 'ticks', null, { timeoutMs: 0 }).pipe(take(3), toArray()),
    );
    expect(firstThree).toEqual([0, 1, 2]);
    await until('the call cancelled on node-b', () => h.cancelled === cancelled + 1, 10_000, 20);
  });

  it('carries undefined and binary payloads as they are', async () => {
    expect(await lastValueFrom(a.client.send('node-b', 'nothing', null).pipe(toArray()))).toEqual([undefined]);
    const reversed = await firstValueFrom(a.client.send<Buffer>('node-b', 'bytes', Buffer.from([1, 2, 3])));
    expect([...reversed]).toEqual([3, 2, 1]);
  });

  it("brings a handler's exception to the caller with its message, and the node carries on", async () => {
    const error = await firstValueFrom(a.client.send('node-b', 'fail', 'k1')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).message).toBe('no such key: k1');
    const asyncError = await firstValueFrom(a.client.send('node-b', 'fail.async', null)).catch((e: unknown) => e);
    expect((asyncError as RemoteError).message).toBe('async failure');
    expect(await firstValueFrom(a.client.send('node-b', { cmd: 'double' }, 2))).toBe(4);
  });

  it('answers an unknown pattern with an error naming it', async () => {
    await expect(firstValueFrom(a.client.send('node-b', 'no.such.pattern', 1))).rejects.toThrow(
      /no @ClusterMessage handler for pattern "no.such.pattern"/,
    );
  });

  it('never serves handlers of other transports (or plain @MessagePattern) to peers', async () => {
    await expect(firstValueFrom(a.client.send('node-b', 'tcp.only', 1))).rejects.toThrow(/no @ClusterMessage handler/);
    await expect(firstValueFrom(a.client.send('node-b', 'plain', 1))).rejects.toThrow(/no @ClusterMessage handler/);
  });

  it('delivers events to @ClusterEvent handlers', async () => {
    await lastValueFrom(a.client.emit('node-b', 'note', 'hello'), { defaultValue: undefined });
    await until('the event handled on node-b', () => handlersOf(b).events.includes('hello from node-a'), 10_000, 20);
  });

  it('broadcasts an event to every live node, this one included', async () => {
    const reached = a.client.broadcast('note', 'to all');
    expect(reached.sort()).toEqual(['node-a', 'node-b']);
    await until(
      'the broadcast handled on both nodes',
      () => handlersOf(b).events.includes('to all from node-a') && handlersOf(a).events.includes('to all from node-a'),
      10_000,
      20,
    );
  });

  it('calls itself without a socket', async () => {
    expect(await firstValueFrom(a.client.send('node-a', 'echo', 1))).toEqual({
      data: 1,
      sender: 'node-a',
      pattern: 'echo',
    });
  });

  it('fails a call that outlives its timeout, and the far side is told to stop', async () => {
    const before = handlersOf(b).cancelled;
    const error = await firstValueFrom(a.client.send('node-b', 'hang', null, { timeoutMs: 150 })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RpcTimeoutError);
    await until('the timed-out call cancelled on node-b', () => handlersOf(b).cancelled === before + 1, 10_000, 20);
  });

  it('applies rpc.timeoutMs to a call that names no timeout', async () => {
    const quick = await startNode('node-quick', { rpc: { timeoutMs: 150 } });
    try {
      await quick.transport.connect(b.address);
      const before = handlersOf(b).cancelled;
      const error = await firstValueFrom(quick.client.send('node-b', 'hang', null)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RpcTimeoutError);
      expect((error as Error).message).toMatch(/150 ?ms/);
      await until('the timed-out call cancelled on node-b', () => handlersOf(b).cancelled === before + 1, 10_000, 20);
    } finally {
      await quick.close();
    }
  });

  it('cancels the call on the far side when the caller unsubscribes', async () => {
    const h = handlersOf(b);
    const started = h.started;
    const cancelled = h.cancelled;
    const subscription = a.client.send('node-b', 'hang', null, { timeoutMs: 0 }).subscribe();
    await until('the call started on node-b', () => h.started === started + 1, 10_000, 20);
    subscription.unsubscribe();
    await until('the call cancelled on node-b', () => h.cancelled === cancelled + 1, 10_000, 20);
  });

  it('fails fast with typed errors: unknown node, oversized frame, full queue', async () => {
    await expect(firstValueFrom(a.client.send('node-zz', 'echo', 1))).rejects.toBeInstanceOf(UnknownNodeError);
    await expect(lastValueFrom(a.client.emit('node-zz', 'note', 1))).rejects.toBeInstanceOf(UnknownNodeError);
    const huge = 'x'.repeat(9 * 1024 * 1024);
    await expect(firstValueFrom(a.client.send('node-b', 'echo', huge))).rejects.toBeInstanceOf(FrameTooLargeError);
    // node-b allows 3 requests in flight: the 4th fails at once, without waiting for any of them
    const hanging = [1, 2, 3].map(() =>
      b.client.send('node-a', 'hang', null, { timeoutMs: 0 }).subscribe({ error: () => undefined }),
    );
    await expect(firstValueFrom(b.client.send('node-a', 'hang', null))).rejects.toBeInstanceOf(QueueFullError);
    for (const s of hanging) s.unsubscribe();
  });

  it('drops the connection on reset (gossip judged the node down), fails the calls on it, and redials', async () => {
    const old = a.transport.connections().find((c) => c.nodeId === 'node-b')!;
    const h = handlersOf(b);
    const started = h.started;
    const waiting = firstValueFrom(a.client.send('node-b', 'hang', null, { timeoutMs: 0 })).catch((e: unknown) => e);
    await until('the call started on node-b', () => h.started === started + 1, 10_000, 20);
    a.transport.reset(b.address, 'node node-b judged down');
    expect(a.transport.isConnected('node-b')).toBe(false);
    expect(await waiting).toBeInstanceOf(NodeUnavailableError);
    // In use, so redialled after the (short, first) backoff: a new connection, and calls work again.
    await until(
      'node-a and node-b connected again',
      () => a.transport.isConnected('node-b') && b.transport.isConnected('node-a'),
      10_000,
      20,
    );
    const now = a.transport.connections().find((c) => c.nodeId === 'node-b')!;
    expect([now.localPort, now.remotePort]).not.toEqual([old.localPort, old.remotePort]);
    expect(await firstValueFrom(a.client.send('node-b', { cmd: 'double' }, 4))).toBe(8);
  });

  it("fails fast with NodeUnavailableError when nothing listens at a node's address", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    await expect(a.transport.connect(address)).rejects.toBeInstanceOf(NodeUnavailableError);
    await expect(a.transport.connect(address)).rejects.toThrow(/unreachable/);
  });
});

/** Answers with the id of the node that ran it: who actually served a call. */
@Controller()
class WhoAmI {
  constructor(@Inject(LOCAL_NODE) private readonly local: LocalNode) {}

  @ClusterMessage('whoami')
  whoami(@Payload() key: string, @Ctx() ctx: ClusterContext) {
    return { servedBy: this.local.id, key, sender: ctx.getSender() };
  }
}

describe('sendToOwner across three gossiping nodes over TCP', () => {
  const nodes: TestNode[] = [];
  const partitioner = (n: TestNode) => n.app.get(PartitionerService);
  const KEYS = Array.from({ length: 300 }, (_, i) => `order:${i}`);

  beforeAll(async () => {
    // Fast rounds so the ring forms in about a second; everything else as users run it, on real sockets.
    const opts = { cluster: 'owners', gossip: { intervalMs: 100 } };
    nodes.push(await startNode('owner-1', opts, [WhoAmI]));
    nodes.push(await startNode('owner-2', { ...opts, seeds: [nodes[0].address] }, [WhoAmI]));
    nodes.push(await startNode('owner-3', { ...opts, seeds: [nodes[0].address] }, [WhoAmI]));
    const ids = nodes
      .map((n) => n.id)
      .sort()
      .join();
    // Agreed: each sees all three up, every ring has the same tokens and owners (checksum), all three own a share.
    await until(
      'the three up and agreeing on the ring',
      () =>
        nodes.every((n) => {
          const members = n.app.get(GossipService).members();
          const owners = Object.entries(partitioner(n).ownership())
            .filter(([, share]) => share > 0)
            .map(([id]) => id)
            .sort()
            .join();
          return members.length === 3 && members.every((m) => m.status === 'up') && owners === ids;
        }) && new Set(nodes.map((n) => partitioner(n).checksum)).size === 1,
      30_000,
      50,
    );
  }, 60_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
  });

  it("reaches the node the partitioner names as the key's owner, from every node, and every node owns some keys", async () => {
    const servedBy = new Map<string, number>();
    for (const caller of nodes) {
      for (const key of KEYS) {
        const reply = await firstValueFrom(
          caller.client.sendToOwner<{ servedBy: string; key: string; sender: string }>(key, 'whoami', key),
        );
        expect({ key, servedBy: reply.servedBy }).toEqual({ key, servedBy: partitioner(caller).getNode(key) });
        expect(reply).toMatchObject({ key, sender: caller.id });
        servedBy.set(reply.servedBy, (servedBy.get(reply.servedBy) ?? 0) + 1);
      }
    }
    // The rings agreed, so all three callers sent each key to the same owner, and the three owners share the keys.
    expect([...servedBy.keys()].sort()).toEqual(nodes.map((n) => n.id).sort());
    expect(new Set(nodes.map((n) => partitioner(n).checksum)).size).toBe(1);
  }, 60_000);
});
