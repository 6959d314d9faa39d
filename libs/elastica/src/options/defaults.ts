import type {
  BootstrapOptions,
  DiscoveryOptions,
  FailureDetectorOptions,
  GossipOptions,
  PartitionerOptions,
  RpcOptions,
  ShutdownOptions,
} from './elastica-options.js';

export const DEFAULT_CLUSTER = 'elastica';
export const DEFAULT_BIND = { host: '127.0.0.1', port: 7000 } as const;

export const DEFAULT_GOSSIP: GossipOptions = {
  intervalMs: 1000,
  mtuBytes: 65_000,
  tombstoneTtlMs: 24 * 3600_000,
  leaveTimeoutMs: 10_000,
  maxGenerationSkewMs: 365 * 24 * 3600_000,
  downExpiryMs: 3 * 24 * 3600_000,
  seedRetryMinMs: 1000,
  seedRetryMaxMs: 30_000,
  maxStateBytes: 64 * 1024,
  maxMembers: 5000,
};

export const DEFAULT_FAILURE_DETECTOR: FailureDetectorOptions = {
  threshold: 8,
  maxSampleSize: 1000,
  minStdDeviationMs: 100,
  acceptableHeartbeatPauseMs: 3000,
  firstHeartbeatEstimateMs: 1000,
  distribution: 'normal',
  maxIntervalMs: 4000,
  localPauseMs: 5000,
};

/**
 * The detector's defaults for a gossip interval: heartbeats are expected once per interval, and an
 * interval is an outage (not recorded) past 4 of them, the standalone detector's rule. The fixed
 * 1000 / 4000 above are these at the default 1 s interval; a longer interval with them would record
 * no interval at all and convict every peer.
 */
export function failureDetectorDefaults(
  intervalMs: number,
  given: Partial<FailureDetectorOptions> = {},
): FailureDetectorOptions {
  const firstHeartbeatEstimateMs = given.firstHeartbeatEstimateMs ?? intervalMs;
  return { ...DEFAULT_FAILURE_DETECTOR, firstHeartbeatEstimateMs, maxIntervalMs: 4 * firstHeartbeatEstimateMs };
}

export const DEFAULT_PARTITIONER: PartitionerOptions = {
  vnodes: 16,
  replicationFactor: 3,
};

export const DEFAULT_RPC: RpcOptions = {
  timeoutMs: 5000,
  maxFrameBytes: 8 * 1024 * 1024,
  maxQueueBytes: 16 * 1024 * 1024,
  handshakeTimeoutMs: 5000,
  connectTimeoutMs: 3000,
  reconnectMinMs: 100,
  reconnectMaxMs: 10_000,
  maxInFlight: 10_000,
  maxPendingHandshakes: 1024,
};

export const DEFAULT_BOOTSTRAP: BootstrapOptions = {
  requiredContacts: 2,
  stableMarginMs: 3000,
};

export const DEFAULT_DISCOVERY: DiscoveryOptions = {
  lookupTimeoutMs: 2000,
};

export const DEFAULT_SHUTDOWN: ShutdownOptions = {
  leave: true,
  drainTimeoutMs: 10_000,
};
