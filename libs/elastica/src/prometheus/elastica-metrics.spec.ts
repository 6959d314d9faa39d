import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import { Subject } from 'rxjs';
import type { CallObserver, CallOutcome } from '../client/call-observer.js';
import { emptyGossipStats } from '../gossip/gossip-stats.js';
import type { RingChange } from '../ring/ring.types.js';
import { ElasticaMetrics, type ElasticaMetricSources } from './elastica-metrics.js';

function sources(peers: number) {
  const observers: CallObserver[] = [];
  const ring$ = new Subject<RingChange>();
  const members = [
    { id: 'self', status: 'up' },
    ...Array.from({ length: peers }, (_, i) => ({ id: `p${i}`, status: i === 0 ? 'down' : 'up' })),
  ];
  const stats = { ...emptyGossipStats(), messagesReceived: 7, bytesSent: 1234 };
  const src = {
    gossip: { localNodeId: 'self', members: () => members, stats },
    detector: {
      phi: (id: string) => (id === 'p0' ? Infinity : Number(id.slice(1)) / 10),
      threshold: 8,
      localPauses: 2,
    },
    partitioner: { ring$, version: 4, isReady: true, ownership: () => ({ self: 0.25 }) },
    transport: {
      stats: () => ({
        refused: { secret: 3, cluster: 0 },
        refusedByPeer: {},
        connections: 2,
        connectionsLost: 1,
        gossipDropped: 0,
      }),
    },
    client: {
      addObserver: (o: CallObserver) => {
        observers.push(o);
        return () => observers.splice(observers.indexOf(o), 1);
      },
    },
  } as unknown as ElasticaMetricSources;
  const call = (pattern: string, outcome: CallOutcome): void =>
    observers.forEach((o) => o.start('p1', pattern)?.end(outcome));
  return { src, ring$, call, observers };
}

function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('ElasticaMetrics', () => {
  it('reads the library counters at scrape time, counts RPC calls and moved ranges, and leaves nothing behind', async () => {
    const registry = new Registry();
    const { src, ring$, call, observers } = sources(3);
    const metrics = new ElasticaMetrics(src, { registry });
    metrics.register();
    call('kv.get', 'ok');
    call('kv.get', 'timeout');
    ring$.next({ version: 1, checksum: 1, previousChecksum: 0, moved: [{} as never, {} as never], nodes: [] });
    const text = await registry.metrics();
    expect(value(text, 'elastica_members{status="up"}')).toBe(3);
    expect(value(text, 'elastica_members{status="down"}')).toBe(1);
    expect(value(text, 'elastica_gossip_messages_total{direction="in"}')).toBe(7);
    expect(value(text, 'elastica_gossip_bytes_total{direction="out"}')).toBe(1234);
    expect(value(text, 'elastica_handshake_refusals_total{reason="secret",side="local"}')).toBe(3);
    expect(value(text, 'elastica_rpc_calls_total{pattern="kv.get",outcome="ok"}')).toBe(1);
    expect(value(text, 'elastica_rpc_calls_total{pattern="kv.get",outcome="timeout"}')).toBe(1);
    expect(value(text, 'elastica_rpc_call_duration_seconds_count{pattern="kv.get"}')).toBe(2);
    expect(value(text, 'elastica_ring_moved_ranges_total')).toBe(2);
    expect(value(text, 'elastica_ring_version')).toBe(4);
    expect(value(text, 'elastica_local_pauses_total')).toBe(2);
    // A convicted peer's phi is infinite; the exposition gets a large finite number instead.
    expect(value(text, 'elastica_peer_phi{peer="p0"}')).toBe(1e9);
    for (const line of text.split('\n')) if (line && !line.startsWith('#')) expect(line).toMatch(/^elastica_/);

    metrics.unregister();
    expect((await registry.metrics()).trim()).toBe('');
    expect(observers).toHaveLength(0);
  });

  it('bounds cardinality: phi for the most suspicious maxPhiPeers peers, patterns past maxPatterns as "other"', async () => {
    const registry = new Registry();
    const { src, call } = sources(50);
    const metrics = new ElasticaMetrics(src, { registry, maxPhiPeers: 5, maxPatterns: 2 });
    metrics.register();
    for (const p of ['a', 'b', 'c', 'd']) call(p, 'ok');
    const text = await registry.metrics();
    const phis = text.split('\n').filter((l) => l.startsWith('elastica_peer_phi{'));
    expect(phis.map((l) => /peer="([^"]+)"/.exec(l)![1])).toEqual(['p0', 'p49', 'p48', 'p47', 'p46']);
    expect(value(text, 'elastica_rpc_calls_total{pattern="other",outcome="ok"}')).toBe(2);
    metrics.unregister();
  });
});
