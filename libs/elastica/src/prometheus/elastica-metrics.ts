import { Counter, Gauge, register as defaultRegistry, type Metric, type Registry } from 'prom-client';
import type { ClusterClient } from '../client/cluster-client.js';
import type { CallOutcome } from '../client/call-observer.js';
import { CallStats } from './call-stats.js';
import type { FailureDetectorService } from '../failure-detector/failure-detector.service.js';
import type { GossipService } from '../gossip/gossip.service.js';
import type { MemberStatus } from '../gossip/gossip.types.js';
import type { PartitionerService } from '../ring/partitioner.service.js';
import type { TransportService } from '../transport/transport.service.js';

export interface ElasticaMetricsOptions {
  /** The prom-client registry to register in; prom-client's default one when omitted. */
  registry?: Registry;
  /**
   * Peers with a series of their own in `elastica_peer_phi` at most: the most suspicious ones. Phi of
   * all peers is summed up in `elastica_peer_phi_max`. Default 32.
   */
  maxPhiPeers?: number;
  /** Distinct RPC patterns labelled at most; later ones count as pattern "other". Default 100. */
  maxPatterns?: number;
}

const STATUSES: readonly MemberStatus[] = ['joining', 'up', 'down', 'leaving', 'left'];

export interface ElasticaMetricSources {
  gossip: GossipService;
  detector: FailureDetectorService;
  partitioner: PartitionerService;
  transport: TransportService;
  client: ClusterClient;
}

/**
 * Elastica's metrics in a prom-client registry. Most are read from the library's own counters when
 * Prometheus scrapes (collect-time), so they cost nothing between scrapes; only RPC calls (an observer
 * on ClusterClient) and ring changes are counted as they happen.
 */
export class ElasticaMetrics {
  private readonly registry: Registry;
  private readonly names: string[] = [];
  private readonly cleanups: (() => void)[] = [];
  private movedRanges = 0;

  constructor(
    private readonly sources: ElasticaMetricSources,
    private readonly options: ElasticaMetricsOptions = {},
  ) {
    this.registry = options.registry ?? defaultRegistry;
  }

  register(): void {
    const { gossip, detector, partitioner, transport, client } = this.sources;
    const registers = [this.registry];
    const maxPhiPeers = this.options.maxPhiPeers ?? 32;
    const add = <T extends { name?: string }>(config: T & { name: string }): T => {
      this.names.push(config.name);
      return { ...config, registers };
    };

    new Gauge(
      add({
        name: 'elastica_members',
        help: 'Members this node knows, by the status it sees (itself included)',
        labelNames: ['status'],
        collect() {
          const counts = new Map<string, number>(STATUSES.map((s) => [s, 0]));
          for (const m of gossip.members()) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
          for (const [status, n] of counts) this.set({ status }, n);
        },
      }),
    );
    new Gauge(
      add({
        name: 'elastica_peer_phi',
        help: `Phi accrual suspicion of each peer (the ${maxPhiPeers} most suspicious peers at most)`,
        labelNames: ['peer'],
        collect() {
          this.reset();
          const phis = gossip
            .members()
            .filter((m) => m.id !== gossip.localNodeId && m.status !== 'left')
            .map((m) => ({ peer: m.id, phi: detector.phi(m.id) }))
            .sort((a, b) => b.phi - a.phi || (a.peer < b.peer ? -1 : 1))
            .slice(0, maxPhiPeers);
          for (const { peer, phi } of phis) this.set({ peer }, Number.isFinite(phi) ? phi : 1e9);
        },
      }),
    );
    new Gauge(
      add({
        name: 'elastica_peer_phi_max',
        help: 'Highest phi over all peers',
        collect() {
          let max = 0;
          for (const m of gossip.members())
            if (m.id !== gossip.localNodeId && m.status !== 'left') max = Math.max(max, detector.phi(m.id));
          this.set(Number.isFinite(max) ? max : 1e9);
        },
      }),
    );
    new Gauge(
      add({
        name: 'elastica_failure_detector_threshold',
        help: 'Phi above which a peer is judged down',
        collect() {
          this.set(detector.threshold);
        },
      }),
    );
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter(
        add({
          name,
          help,
          collect() {
            this.reset();
            this.inc(read());
          },
        }),
      );
    };
    const directional = (name: string, help: string, read: () => { in: number; out: number }): void => {
      new Counter(
        add({
          name,
          help,
          labelNames: ['direction'],
          collect() {
            this.reset();
            const v = read();
            this.inc({ direction: 'in' }, v.in);
            this.inc({ direction: 'out' }, v.out);
          },
        }),
      );
    };
    directional('elastica_gossip_messages_total', 'Gossip messages received (in) and sent (out)', () => ({
      in: gossip.stats.messagesReceived,
      out: gossip.stats.messagesSent,
    }));
    directional('elastica_gossip_bytes_total', 'Gossip bytes received (in) and sent (out)', () => ({
      in: gossip.stats.bytesReceived,
      out: gossip.stats.bytesSent,
    }));
    new Counter(
      add({
        name: 'elastica_gossip_refused_total',
        help: 'Gossip input refused, by reason',
        labelNames: ['reason'],
        collect() {
          this.reset();
          const s = gossip.stats;
          const reasons: Record<string, number> = {
            malformed: s.malformed,
            generation: s.refusedGenerations,
            version: s.refusedVersions,
            verdicts: s.refusedVerdicts,
            oversized: s.refusedOversized,
            state: s.refusedState,
            members: s.refusedMembers,
            forgotten: s.refusedForgotten,
          };
          for (const [reason, n] of Object.entries(reasons)) this.inc({ reason }, n);
        },
      }),
    );
    counter(
      'elastica_gossip_refutations_total',
      'Times this node took a new generation to refute a peer',
      () => gossip.stats.refutations,
    );
    counter(
      'elastica_members_forgotten_total',
      "Members forgotten by hand (forget), here or on another node's word",
      () => gossip.stats.forgotten,
    );
    new Counter(
      add({
        name: 'elastica_handshake_refusals_total',
        help: 'Connections refused at the handshake, by reason; side="local" refused by this node, "peer" by the other end',
        labelNames: ['reason', 'side'],
        collect() {
          this.reset();
          const stats = transport.stats();
          for (const [reason, n] of Object.entries(stats.refused)) this.inc({ reason, side: 'local' }, n);
          for (const [reason, n] of Object.entries(stats.refusedByPeer)) this.inc({ reason, side: 'peer' }, n);
        },
      }),
    );
    new Gauge(
      add({
        name: 'elastica_connections',
        help: 'Established connections to peers',
        collect() {
          this.set(transport.stats().connections);
        },
      }),
    );
    counter('elastica_connections_lost_total', 'Established connections lost', () => transport.stats().connectionsLost);
    counter(
      'elastica_gossip_dropped_total',
      "Gossip messages dropped because a peer's queue was full",
      () => transport.stats().gossipDropped,
    );
    counter(
      'elastica_local_pauses_total',
      'Stalls of this process (GC, SIGSTOP, a starved host) the local-pause guard caught',
      () => detector.localPauses,
    );

    new Gauge(
      add({
        name: 'elastica_ring_version',
        help: 'Ring changes seen by this node since it started',
        collect() {
          this.set(partitioner.version);
        },
      }),
    );
    counter(
      'elastica_ring_moved_ranges_total',
      'Token ranges that moved between nodes in ring changes',
      () => this.movedRanges,
    );
    new Gauge(
      add({
        name: 'elastica_ring_ownership_ratio',
        help: 'Fraction of the key space this node owns',
        collect() {
          this.set(partitioner.ownership()[gossip.localNodeId] ?? 0);
        },
      }),
    );
    new Gauge(
      add({
        name: 'elastica_ring_ready',
        help: "1 once this node's tokens are published and its ring is built",
        collect() {
          this.set(partitioner.isReady ? 1 : 0);
        },
      }),
    );
    const sub = partitioner.ring$.subscribe((change) => (this.movedRanges += change.moved.length));
    this.cleanups.push(() => sub.unsubscribe());

    const stats = new CallStats(this.options.maxPatterns ?? 100);
    new Counter(
      add({
        name: 'elastica_rpc_calls_total',
        help: 'ClusterClient calls, by pattern and outcome',
        labelNames: ['pattern', 'outcome'],
        collect() {
          this.reset();
          for (const [pattern, outcome, n] of stats.calls()) this.inc({ pattern, outcome }, n);
        },
      }),
    );
    const latencyName = 'elastica_rpc_call_duration_seconds';
    const latency = {
      name: latencyName,
      help: 'ClusterClient call latency (to the reply, or the end of a stream), by pattern',
      type: 'histogram',
      aggregator: 'sum',
      get: () => ({
        name: latencyName,
        help: latency.help,
        type: 'histogram',
        aggregator: 'sum',
        values: stats.histogramValues(latencyName),
      }),
    };
    this.registry.registerMetric(latency as unknown as Metric);
    this.names.push(latencyName);
    this.cleanups.push(
      client.addObserver({
        start: (_nodeId, route) => {
          const entry = stats.of(route);
          const started = performance.now();
          return {
            end: (outcome: CallOutcome) =>
              CallStats.record(
                entry,
                outcome,
                outcome === 'cancelled' ? undefined : (performance.now() - started) / 1000,
              ),
          };
        },
      }),
    );
  }

  unregister(): void {
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    for (const name of this.names.splice(0)) this.registry.removeSingleMetric(name);
  }
}
