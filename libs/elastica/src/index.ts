// The public API of `elastica`: what users may depend on, kept to the contract (docs/CONTRACT.md)
// and the pure protocol cores, so that internals can be renamed without a breaking release. Wire
// codecs, injection seams and other internals that the repo's own tests and tools drive are in
// `elastica/testing` (testing.ts), which is not public API.

// The Nest module, its transport and handlers
export { ElasticaModule } from './module/elastica.module.js';
export { ELASTICA_OPTIONS } from './elastica.constants.js';
export { ElasticaTransport } from './rpc/elastica-transport.js';
export { ClusterMessage } from './decorators/cluster-message.decorator.js';
export { ClusterEvent } from './decorators/cluster-event.decorator.js';
export { ClusterContext } from './rpc/cluster-context.js';
export { ClusterClient, type ClusterCallOptions, type ClusterPattern } from './client/cluster-client.js';
export type {
  CallObserver,
  CallOutcome,
  CallWatch,
  InboundObserver,
  ObservedInboundCall,
} from './client/call-observer.js';

// Services
export { GossipService } from './gossip/gossip.service.js';
export type { Member, MemberStatus, MembershipEvent, MembershipEventType, StateChange } from './gossip/gossip.types.js';
export { RESERVED_KEY_PREFIX } from './gossip/gossip.types.js';
export { FailureDetectorService } from './failure-detector/failure-detector.service.js';
export type { AvailabilityChange } from './failure-detector/peer-failure-detectors.js';
export { PartitionerService } from './ring/partitioner.service.js';
export type { RingMember, RingMemberStatus, TokenRange, MovedRange, RingChange } from './ring/ring.types.js';
export { TOKENS_KEY, REPLACES_KEY, LOAD_KEY } from './ring/token-codec.js';
export { TransportService } from './transport/transport.service.js';
export { ShutdownService, type ShutdownReport } from './shutdown/shutdown.service.js';
export { AdminService } from './admin/admin.service.js';
export type { AdminStatus } from './admin/admin.types.js';
export type { TransportStats, ConnectionInfo } from './transport/connection-registry.js';

// Options and their documented defaults
export * from './options/elastica-options.js';
export { LIBRARY_VERSION, VERSION_KEY, APP_VERSION_KEY } from './elastica.constants.js';
export {
  DEFAULT_BOOTSTRAP,
  DEFAULT_DISCOVERY,
  DEFAULT_SHUTDOWN,
  DEFAULT_FAILURE_DETECTOR,
  DEFAULT_GOSSIP,
  DEFAULT_PARTITIONER,
  DEFAULT_RPC,
  failureDetectorDefaults,
} from './options/defaults.js';

// Errors a caller can catch
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
export { ElasticaOptionsError } from './errors/elastica-options.error.js';
export { RingNotReadyError } from './errors/ring-not-ready.error.js';
export { NodeDrainingError } from './errors/node-draining.error.js';
export { NodeNotDownError } from './errors/node-not-down.error.js';

// Pure cores, usable without Nest: the failure detector
export {
  PhiAccrualFailureDetector,
  type PhiAccrualFailureDetectorOptions,
  type PhiSnapshot,
} from './failure-detector/phi-accrual-failure-detector.js';
export { PeerFailureDetectors } from './failure-detector/peer-failure-detectors.js';
export { LocalPauseGuard } from './failure-detector/local-pause-guard.js';

// ... gossip
export {
  GossipNode,
  type GossipNodeConfig,
  type Outgoing,
  type LeavePhase,
  type GossipStats,
} from './gossip/gossip-node.js';
export { FirstStart } from './gossip/first-start.js';
export type { LivenessOracle, GossipListener, ViewEntry, AnnouncedStatus } from './gossip/gossip.types.js';
export { PeerLiveness } from './gossip/peer-liveness.js';
export type { Random } from './common/random.js';

// ... and the ring
export { tokenOf, TOKEN_SPACE } from './ring/hash.js';
export { TokenRing, type TokenCollision } from './ring/token-ring.js';
export { allocateTokens, firstNodeTokens } from './ring/token-allocation.js';
export { diffRings, movedFraction } from './ring/ring-diff.js';

// ... and token planning: the pure planner the PartitionerService and the simulator drive
export {
  TokenPlanner,
  type PlannerMember,
  type PlannerOutput,
  type PlannerNotice,
  type PlannerPhase,
  type PlannerStats,
  type TokenPlannerConfig,
} from './ring/token-planner.js';
