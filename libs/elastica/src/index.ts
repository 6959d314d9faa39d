export * from './options/elastica-options.js';
export { ElasticaOptionsError } from './options/elastica-options.error.js';
export { resolveOptions, parseHostPort, formatHostPort } from './options/resolve-options.js';
export {
  DEFAULT_FAILURE_DETECTOR, DEFAULT_GOSSIP, DEFAULT_PARTITIONER, DEFAULT_RPC,
} from './options/defaults.js';
export { ElasticaModule } from './module/elastica.module.js';
export { ELASTICA_OPTIONS } from './module/elastica.tokens.js';
export { CLOCK, systemClock, type Clock } from './common/clock.js';
export { LOCAL_NODE, type LocalNode } from './common/local-node.js';

export { PhiAccrualFailureDetector, type PhiAccrualFailureDetectorOptions, type PhiSnapshot } from './failure-detector/phi-accrual-failure-detector.js';
export { phiNormal, phiExponential } from './failure-detector/phi.js';
export { HeartbeatWindow } from './failure-detector/heartbeat-window.js';
export { PeerFailureDetectors, type AvailabilityChange } from './failure-detector/peer-failure-detectors.js';
export { LocalPauseGuard } from './failure-detector/local-pause-guard.js';
export { FailureDetectorService } from './failure-detector/failure-detector.service.js';

export { GossipService } from './gossip/gossip.service.js';

export { PartitionerService, RingNotReadyError, type PartitionerMembership } from './ring/partitioner.service.js';
export { tokenOf, murmur3, TOKEN_SPACE } from './ring/hash.js';
export { TokenRing, ownsRanges, type TokenCollision } from './ring/token-ring.js';
export { allocateTokens, firstNodeTokens } from './ring/token-allocation.js';
export { diffRings, movedFraction } from './ring/ring-diff.js';
export { encodeTokens, decodeTokens, TokenEncodingError, TOKENS_KEY, REPLACES_KEY, HANDBACK_PREFIX } from './ring/token-codec.js';
export type { RingMember, RingMemberStatus, TokenRange, MovedRange, RingChange } from './ring/ring.types.js';

// PLACEHOLDERS (app branch) until the transport branch lands: same names, same files.
export { ClusterClient, type ClusterCallOptions } from './client/cluster-client.js';
export { ElasticaTransport } from './rpc/elastica-transport.js';
export { ClusterMessage, ClusterEvent } from './rpc/cluster-decorators.js';
export { ClusterContext } from './rpc/cluster-context.js';
