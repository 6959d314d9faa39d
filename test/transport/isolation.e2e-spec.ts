import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { TestHandlers } from './handlers.js';
import { freePort } from '../support/free-port.js';
import { startNode, type TestNode } from '../support/elastica-node.js';
import { until } from '../support/until.js';

describe('handlers stay with their transport, both ways', () => {
  let node: TestNode;
  let peer: TestNode;
  let tcp: ClientProxy;

  beforeAll(async () => {
    node = await startNode('iso-node', {}, [TestHandlers]);
    peer = await startNode('iso-peer');
    const tcpPort = await freePort();
    // The same app also serves Nest's own TCP transport.
    node.app.connectMicroservice({ transport: Transport.TCP, options: { host: '127.0.0.1', port: tcpPort } });
    await node.app.startAllMicroservices();
    tcp = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: tcpPort } });
    await tcp.connect();
    await peer.transport.connect(node.address);
  });

  afterAll(async () => {
    await tcp?.close();
    await peer?.close();
    await node?.close();
  });

  it('Nest TCP serves its own handlers, and never a @ClusterMessage one', async () => {
    expect(await firstValueFrom(tcp.send('tcp.only', 1))).toBe('tcp');
    expect(await firstValueFrom(tcp.send('plain', 1))).toBe('plain');
    await expect(firstValueFrom(tcp.send('echo', 1))).rejects.toMatch(/no matching message handler/i);
  });

  it('cluster peers reach @ClusterMessage handlers only', async () => {
    expect(await firstValueFrom(peer.client.send('iso-node', 'echo', 1))).toEqual({
      data: 1,
      sender: 'iso-peer',
      pattern: 'echo',
    });
    await expect(firstValueFrom(peer.client.send('iso-node', 'tcp.only', 1))).rejects.toThrow(
      /no @ClusterMessage handler/,
    );
    await expect(firstValueFrom(peer.client.send('iso-node', 'plain', 1))).rejects.toThrow(
      /no @ClusterMessage handler/,
    );
  });

  // Events on one connection are handled in order, so once the marker sent last has arrived, the ones
  // sent before it have been handled (or skipped) too: no clock decides what "never arrived" means.
  it('cluster events reach @ClusterEvent handlers only', async () => {
    const handlers = node.app.get(TestHandlers);
    await lastValueFrom(peer.client.emit('iso-node', 'tcp.event', 'from a peer'), { defaultValue: undefined });
    await lastValueFrom(peer.client.emit('iso-node', 'plain.event', 'from a peer'), { defaultValue: undefined });
    await lastValueFrom(peer.client.emit('iso-node', 'note', 'marker 1'), { defaultValue: undefined });
    await until('the cluster event handled', () => handlers.events.includes('marker 1 from iso-peer'), 10_000, 20);
    expect(handlers.events.filter((e) => e.includes('from a peer'))).toEqual([]);
  });

  it('Nest TCP events reach its own @EventPattern handlers, and never a @ClusterEvent one', async () => {
    const handlers = node.app.get(TestHandlers);
    await firstValueFrom(tcp.emit('note', 'via tcp'), { defaultValue: undefined });
    await firstValueFrom(tcp.emit('plain.event', 'via tcp'), { defaultValue: undefined });
    await firstValueFrom(tcp.emit('tcp.event', 'via tcp'), { defaultValue: undefined });
    await until(
      'the Nest TCP event at both of its handlers',
      () => handlers.events.includes('tcp.event via tcp') && handlers.events.includes('plain.event via tcp'),
      10_000,
      20,
    );
    expect(handlers.events.filter((e) => e.startsWith('via tcp'))).toEqual([]);
  });
});
