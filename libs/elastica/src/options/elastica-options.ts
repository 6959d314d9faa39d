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
  /** `host:port` of any number of seeds; a node may list itself. Default none (a cluster of one). */
  seeds?: string[];
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
  seeds: HostPort[];
  secret?: string;
  tls?: TlsOptions;
  appVersion?: string;
  gossip: GossipOptions;
  failureDetector: FailureDetectorOptions;
  partitioner: PartitionerOptions;
  rpc: RpcOptions;
}
