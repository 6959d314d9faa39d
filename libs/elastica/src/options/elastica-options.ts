import type { SeedProvider, SeedSource } from '../discovery/seed-source.js';
import type { BootstrapOptions } from '../gossip/first-start.js';

export type { SeedProvider, SeedSource } from '../discovery/seed-source.js';
export type { BootstrapOptions } from '../gossip/first-start.js';

/** Where a node listens, or where peers dial it. */
export interface HostPort {
  host: string;
  port: number;
}

export type PhiDistribution = 'normal' | 'exponential';

export interface GossipOptions {
  /** One gossip round per interval; every round bumps this node's heartbeat. Default 1000. */
  intervalMs: number;
  /** No gossip message is larger than this many bytes; the most out-of-date owners go first. Default 65000. */
  mtuBytes: number;
  /** How long a departed node's tombstone is kept so old gossip cannot bring it back. Default 24 h. */
  tombstoneTtlMs: number;
  /** How long `leave()` waits for the news to spread before it gives up waiting. Default 10000. */
  leaveTimeoutMs: number;
  /** A peer's generation more than this far in the future is refused as corrupt. Default one year. */
  maxGenerationSkewMs: number;
  /** A down node is dropped from membership after this long without news. Default 3 days. */
  downExpiryMs: number;
  /** Seed retry backoff while no seed answers: start (tried five times), cap. Defaults 1000, 30000. */
  seedRetryMinMs: number;
  seedRetryMaxMs: number;
  /**
   * Bytes of application state (keys and values, as on the wire) one node may publish; a peer's state
   * beyond it is refused, so no member can make the others hold more. Default 65536.
   */
  maxStateBytes: number;
  /** Nodes (incarnations) known at once; further strangers are refused until some expire. Default 5000. */
  maxMembers: number;
}

export interface FailureDetectorOptions {
  /** phi above which a node is convicted. Default 8 (Akka). */
  threshold: number;
  /** Intervals kept in the sliding window. Default 1000. */
  maxSampleSize: number;
  /** Floor of the standard deviation used by `normal`. Default 100. */
  minStdDeviationMs: number;
  /** Added to the mean by `normal`, so ordinary hiccups are not suspicious. Default 3000. */
  acceptableHeartbeatPauseMs: number;
  /** The interval assumed before any is measured; seeds the window. Default 1000. */
  firstHeartbeatEstimateMs: number;
  /** Inter-arrival model. Default 'normal'. */
  distribution: PhiDistribution;
  /** Intervals longer than this are not recorded, so one outage does not teach that silence is normal. Default 4000. */
  maxIntervalMs: number;
  /** When this node's own event loop stalled longer than this, it convicts nobody for as long. Default 5000. */
  localPauseMs: number;
}

export interface PartitionerOptions {
  /** Tokens (virtual nodes) per node. Default 16. */
  vnodes: number;
  /** Copies of each key: the owner and the next distinct nodes. Default 3. */
  replicationFactor: number;
  /** The id of a down node this one replaces: it takes over that node's tokens. Default none. */
  replaces?: string;
  /**
   * The tokens this node held in its previous run, kept by the application (read them from
   * `PartitionerService.tokens` once `whenReady()` resolves, and on every `ring$` change). Given, the
   * node settles on them at once instead of joining: after a whole-cluster restart, when no peer
   * remembers them to hand back, the ring comes back as it was. Default none.
   */
  restoreTokens?: readonly number[];
}

export interface RpcOptions {
  /** Default timeout of `ClusterClient.send`. Default 5000. */
  timeoutMs: number;
  /** Largest frame accepted or sent; larger ones are refused from their length prefix. Default 8 MiB. */
  maxFrameBytes: number;
  /** Outbound bytes queued per peer before sends fail at once. Default 16 MiB. */
  maxQueueBytes: number;
  /** A connection that has not completed its handshake after this long is closed. Default 5000. */
  handshakeTimeoutMs: number;
  /** Dial timeout. Default 3000. */
  connectTimeoutMs: number;
  /**
   * Reconnect backoff: first delay and cap, with jitter. Defaults 100, 10000. When a peer that could not
   * be reached connects again, the others in backoff are redialled within 1-2 x reconnectMinMs.
   */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** Requests in flight per peer connection before new ones fail at once. Default 10000. */
  maxInFlight: number;
  /**
   * Inbound connections allowed at once between accept and a completed handshake; past it the oldest
   * is refused (`overloaded`). Bounds what strangers can hold open. Default 1024.
   */
  maxPendingHandshakes: number;
  /**
   * The wire-protocol versions this node speaks, `{ min, max }`. For tests of mixed versions only (a
   * node that speaks a version this build does not have); default: this build's own range.
   */
  protocolVersions?: { min: number; max: number };
}

export interface DiscoveryOptions {
  /** One DNS query (or a provider's resolve()) gives up after this long; it is retried with backoff. Default 2000. */
  lookupTimeoutMs: number;
}

export interface ShutdownOptions {
  /**
   * With Nest's shutdown hooks enabled (`app.enableShutdownHooks()`), stopping the app decommissions
   * the node: new cluster calls are refused (NodeDrainingError), calls in flight finish, the node
   * leaves (peers see it `left`, not `down`), then closes. Default true.
   */
  leave: boolean;
  /** How long calls in flight may take to finish before the node leaves anyway. Default 10000. */
  drainTimeoutMs: number;
}

export interface TlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  ca: string | Buffer;
  /**
   * Bind node ids to certificates: a peer's certificate must name the node id it claims (its subject
   * CN, or a DNS or URI subjectAltName), else the connection is refused (`tls`). Without it any
   * certificate of `ca` may claim any node id. This node's own certificate is checked at start-up.
   * Default false.
   */
  nodeIdInCertificate?: boolean;
}

/** What a user passes to `ElasticaModule.forRoot()`; everything but `seeds` has a default. */
export interface ElasticaOptions {
  /** Cluster name; peers of another cluster are refused at the handshake. Default 'elastica'. */
  cluster?: string;
  /** Stable id of this node. Default: the advertised `host:port`. */
  nodeId?: string;
  /** The address this node listens on. Default 127.0.0.1:7000. */
  bind?: Partial<HostPort>;
  /** The address peers dial; default: bind. `0.0.0.0` cannot be advertised. */
  advertise?: Partial<HostPort>;
  /**
   * Any number of seeds; a node may list itself. Each is `host:port` (a host name stands for every
   * address it resolves to), `dns:NAME:PORT` (every A/AAAA record of NAME), `srv:_service._proto.NAME`
   * (SRV records) or a SeedProvider. Names are looked up again at each seed retry. Default none (a
   * cluster of one). With `dns:`, `srv:` or a provider, the bootstrap policy decides who founds the cluster.
   */
  seeds?: (string | SeedProvider)[];
  /** The safe first start of nodes whose seeds come from discovery: see BootstrapOptions. */
  bootstrap?: Partial<BootstrapOptions>;
  discovery?: Partial<DiscoveryOptions>;
  shutdown?: Partial<ShutdownOptions>;
  /** When set, peers without it are refused (HMAC challenge-response; it never crosses the wire). */
  secret?: string;
  /** TLS on the peer connection, with peer certificates verified against `ca`. */
  tls?: TlsOptions;
  /** This application's version, gossiped with the node and shown in `members()` (e.g. during a rolling upgrade). */
  appVersion?: string;
  gossip?: Partial<GossipOptions>;
  failureDetector?: Partial<FailureDetectorOptions>;
  partitioner?: Partial<PartitionerOptions>;
  rpc?: Partial<RpcOptions>;
}

/** The options after defaults and validation: what every service reads. */
export interface ResolvedElasticaOptions {
  cluster: string;
  nodeId: string;
  bind: HostPort;
  advertise: HostPort;
  /** The static `host:port` entries of `seeds` (names not yet resolved). */
  seeds: HostPort[];
  /** Every entry of `seeds`, parsed, in order. */
  seedSources: SeedSource[];
  /** Whether any seed comes from discovery (`dns:`, `srv:`, a provider): the bootstrap policy applies. */
  discovered: boolean;
  bootstrap: BootstrapOptions;
  discovery: DiscoveryOptions;
  shutdown: ShutdownOptions;
  secret?: string;
  tls?: TlsOptions;
  appVersion?: string;
  gossip: GossipOptions;
  failureDetector: FailureDetectorOptions;
  partitioner: PartitionerOptions;
  rpc: RpcOptions;
}
