export * from './options/elastica-options.js';
export { ElasticaOptionsError } from './options/elastica-options.error.js';
export { resolveOptions, parseHostPort, formatHostPort } from './options/resolve-options.js';
export {
  DEFAULT_FAILURE_DETECTOR,
  DEFAULT_GOSSIP,
  DEFAULT_PARTITIONER,
  DEFAULT_RPC,
  failureDetectorDefaults,
} from './options/defaults.js';
export { ElasticaModule } from './module/elastica.module.js';
export { ELASTICA_OPTIONS } from './module/elastica.tokens.js';
export { CLOCK, systemClock, type Clock } from './common/clock.js';
export { LOCAL_NODE, type LocalNode } from './common/local-node.js';

export {
  PhiAccrualFailureDetector,
  type PhiAccrualFailureDetectorOptions,
  type PhiSnapshot,
} from './failure-detector/phi-accrual-failure-detector.js';
export { phiNormal, phiExponential } from './failure-detector/phi.js';
export { HeartbeatWindow } from './failure-detector/heartbeat-window.js';
export { PeerFailureDetectors, type AvailabilityChange } from './failure-detector/peer-failure-detectors.js';
export { LocalPauseGuard } from './failure-detector/local-pause-guard.js';
export { FailureDetectorService } from './failure-detector/failure-detector.service.js';

export { GossipService } from './gossip/gossip.service.js';
export type {
  Member,
  MemberStatus,
  MembershipEvent,
  MembershipEventType,
  StateChange,
  LivenessOracle,
  GossipListener,
  ViewEntry,
  AnnouncedStatus,
} from './gossip/gossip.types.js';
export { RESERVED_KEY_PREFIX } from './gossip/gossip.types.js';
export {
  GossipNode,
  type GossipNodeConfig,
  type Outgoing,
  type LeavePhase,
  type GossipStats,
} from './gossip/gossip-node.js';
export { PeerLiveness } from './gossip/peer-liveness.js';
export { encodeMessage, decodeMessage } from './gossip/wire/codec.js';
export { GossipDecodeError } from './gossip/wire/bytes.js';
export type { GossipMessage, Delta, DigestEntry, Item, MessageHeader } from './gossip/wire/messages.js';
export { incarnationRef } from './gossip/wire/incarnation.js';
export { SeededRandom, randomInt, shuffle, type Random } from './common/random.js';
export { GOSSIP_CHANNEL, type GossipChannel } from './network/gossip-channel.js';
export { InMemoryGossipNetwork, type InMemoryGossipNetworkOptions } from './network/in-memory-gossip-network.js';

export { PartitionerService, RingNotReadyError, type PartitionerMembership } from './ring/partitioner.service.js';
export { tokenOf, murmur3, TOKEN_SPACE } from './ring/hash.js';
export { TokenRing, ownsRanges, type TokenCollision } from './ring/token-ring.js';
export { allocateTokens, firstNodeTokens } from './ring/token-allocation.js';
export { diffRings, movedFraction } from './ring/ring-diff.js';
export {
  encodeTokens,
  decodeTokens,
  TokenEncodingError,
  TOKENS_KEY,
  REPLACES_KEY,
  HANDBACK_PREFIX,
} from './ring/token-codec.js';
export type { RingMember, RingMemberStatus, TokenRange, MovedRange, RingChange } from './ring/ring.types.js';
export {
  ElasticaError,
  UnknownNodeError,
  NodeUnavailableError,
  RpcTimeoutError,
  RemoteError,
  QueueFullError,
  FrameTooLargeError,
  MalformedFrameError,
} from './errors/elastica-error.js';
export { TransportService, type RpcDispatcher } from './transport/transport.service.js';
export type { TransportStats, ConnectionInfo } from './transport/connection-registry.js';
export { FrameDecoder } from './transport/frame-decoder.js';
export { encodeRequest, decodeFrame, FrameType, type Frame } from './transport/frames.js';
export { PROTOCOL_VERSION, type RefusalReason } from './transport/handshake.js';
export { ElasticaTransport } from './rpc/elastica-transport.js';
export { ELASTICA_TRANSPORT } from './rpc/elastica-transport.token.js';
export { ClusterMessage, ClusterEvent } from './rpc/cluster-decorators.js';
export { ClusterContext } from './rpc/cluster-context.js';
export { ClusterClient, type ClusterCallOptions, type ClusterPattern } from './client/cluster-client.js';
export { NodeResolver, type ResolvedNode } from './client/node-resolver.js';
export { VERDICTS_KEY, MAX_VERDICTS, encodeVerdicts, decodeVerdicts, type Verdict } from './gossip/verdicts.js';

// Token planning (issue 14): the pure planner the PartitionerService and the simulator drive, the
// cohort allocation it computes, and the gossip keys it adds.
export {
  TokenPlanner,
  type PlannerMember,
  type PlannerOutput,
  type PlannerNotice,
  type PlannerPhase,
  type PlannerStats,
  type TokenPlannerConfig,
} from './ring/token-planner.js';
export {
  allocateCohort,
  loadDensities,
  LOAD_MARGIN,
  type CohortCache,
  type CohortInputs,
} from './ring/cohort-allocation.js';
export { JOIN_KEY, LOAD_KEY } from './ring/token-codec.js';
