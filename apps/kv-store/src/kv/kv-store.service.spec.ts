import 'reflect-metadata';
import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type {
  FailureDetectorService,
  GossipService,
  PartitionerService,
  ShutdownService,
  ResolvedElasticaOptions,
  RingChange,
} from 'elastica';
import { Subject } from 'rxjs';
import type { ClusterPeerCaller } from '../cluster/cluster-peer-caller.js';
import { ElasticaCluster } from '../cluster/elastica-cluster.js';
import { DEFAULT_KV_OPTIONS } from '../replication/kv-node.js';
import { InMemoryCluster } from '../replication/testing/in-memory-cluster.js';
import { DEFAULT_KV_STORE_OPTIONS } from './kv-options.js';
import { KvStoreService } from './kv-store.service.js';
import { MemoryStorageEngine } from '../store/memory-engine.js';

/**
 * Data follows the ring because a `ring$` change starts a placement round, not only because the
 * periodic sync would get there some day (the e2e join test passes either way). Node x is the app's
 * own KvStoreService and ElasticaCluster adapter, over a partitioner whose `ring$` the test drives and
 * in-memory peers (whose own rounds never run here). Its sync interval is an hour and the clock is
 * fake: with no round started by anything else for half an hour, nothing moves; after `ring$` speaks,
 * x's copies reach the new owner within seconds of fake time, and the ones it no longer replicates go.
 */
const HOUR = 3600_000;
const KEYS = Array.from({ length: 60 }, (_, i) => `key-${i}`);
const services: KvStoreService[] = [];

beforeAll(() => {
  Logger.overrideLogger(false);
});
afterEach(() => {
  for (const service of services.splice(0)) service.onModuleDestroy();
  jest.useRealTimers();
});

function scene() {
  const c = new InMemoryCluster(3, { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0 });
  // x stamps its writes by Date.now(): its peers' clock must not find them ahead of their own
  c.nowMs = Date.now();
  let owners = ['a', 'b', 'c', 'x'];
  let ring = { nodeIds: owners };
  const ring$ = new Subject<RingChange>();
  const gossip = {
    localNodeId: 'x',
    events$: new Subject(),
    changes$: new Subject(),
    members: () =>
      owners.map((id) => ({ id, address: `${id}:7000`, status: 'up', generation: 1, heartbeat: 1, state: {} })),
  };
  /** What the service told the partitioner with reportHandoff, in order (the "safe to stop" probe reads it). */
  const handoffReports: boolean[] = [];
  const partitioner = {
    ring$,
    reportHandoff: (inProgress: boolean) => handoffReports.push(inProgress),
    reportLoad: () => undefined,
    get ring() {
      return ring;
    },
    getReplicas: (key: string, n = 3) => c.replicasOf(key, undefined, n),
    whenReady: () => new Promise<void>(() => {}),
    tokenPhase: 'waiting',
    tokens: [],
  };
  const cluster = new ElasticaCluster(
    gossip as unknown as GossipService,
    {} as unknown as FailureDetectorService,
    partitioner as unknown as PartitionerService,
    { partitioner: { replicationFactor: 3 } } as unknown as ResolvedElasticaOptions,
  );
  for (const id of ['a', 'b', 'c']) c.add(id);
  let service!: KvStoreService;
  c.adopt('x', (peers) => {
    service = new KvStoreService(
      cluster,
      peers as unknown as ClusterPeerCaller,
      {
        ...DEFAULT_KV_STORE_OPTIONS,
        node: { ...DEFAULT_KV_OPTIONS, orphanGraceMs: 0 },
        syncIntervalMs: HOUR,
        changeDelayMs: 500,
      },
      { beforeLeave: () => undefined } as unknown as ShutdownService,
      new MemoryStorageEngine(DEFAULT_KV_OPTIONS.storage),
    );
    services.push(service);
    return service.node;
  });
  /** A node joins: the partitioner's ring has it at once (ring$ is the test's to fire). */
  const join = (id: string): void => {
    c.add(id);
    owners = [...owners, id];
    ring = { nodeIds: owners };
  };
  return { c, service, ring$, join, handoffReports };
}

/** Lets the in-memory messages (promise hops, no timers) run until `done`, a bounded number of turns. */
async function drain(done: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('KvStoreService and ring$', () => {
  it("a ring$ change alone starts the handoff: x's copies reach the new owner, those x no longer replicates leave it", async () => {
    const { c, service, ring$, join, handoffReports } = scene();
    for (const key of KEYS) await c.node('x').write(key, `value of ${key}`);
    await drain(() => KEYS.every((key) => c.holders(key).length === 3)); // a write's last copy may still be on its way
    for (const key of KEYS) expect(c.holders(key).sort()).toEqual(c.replicasOf(key).sort());

    jest.useFakeTimers({ now: Date.now() });
    service.onApplicationBootstrap();
    join('n');
    const held = KEYS.filter((key) => c.node('x').storage.has(key));
    const toNew = held.filter((key) => c.replicasOf(key).includes('n'));
    const leavingX = held.filter((key) => !c.replicasOf(key).includes('x'));
    expect(toNew.length).toBeGreaterThan(0);
    expect(leavingX.length).toBeGreaterThan(0);

    // Half an hour with the ring changed but ring$ silent: no round runs, nothing moves.
    await jest.advanceTimersByTimeAsync(HOUR / 2);
    expect(toNew.filter((key) => c.node('n').storage.has(key))).toEqual([]);
    expect(service.node.stats()).toMatchObject({ syncRounds: 0, handedOff: 0, orphansDropped: 0 });

    ring$.next({
      version: 2,
      checksum: 2,
      previousChecksum: 1,
      moved: [{ range: { start: 1, end: 2 }, from: 'x', to: 'n' }],
      nodes: ['a', 'b', 'c', 'n', 'x'],
    });
    expect(handoffReports).toEqual([true]);
    // The round starts changeDelayMs (500 ms) later; give it up to 10 s of fake time, far from the hourly sync.
    const moved = (): boolean =>
      toNew.every((key) => c.node('n').storage.get(key)?.value === `value of ${key}`) &&
      leavingX.every((key) => !c.node('x').storage.has(key));
    for (let ms = 0; ms < 10_000 && !moved(); ms += 50) await jest.advanceTimersByTimeAsync(50);
    expect(toNew.filter((key) => !c.node('n').storage.has(key))).toEqual([]);
    expect(leavingX.filter((key) => c.node('x').storage.has(key))).toEqual([]);
    const stats = service.node.stats();
    expect(stats.handedOff).toBeGreaterThanOrEqual(leavingX.length);
    expect(stats.orphansDropped).toBe(leavingX.length);
    // nothing was lost on the way: every key is on its new replicas
    for (const key of held)
      for (const id of c.replicasOf(key))
        expect([key, id, c.node(id).storage.get(key)?.value]).toEqual([key, id, `value of ${key}`]);
    // The handoff is reported over by the next round that finds nothing left to move (the periodic sync here).
    expect(handoffReports).toEqual([true]);
    await jest.advanceTimersByTimeAsync(HOUR);
    expect(handoffReports).toEqual([true, false]);
  });
});
