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

// PLACEHOLDERS (app branch) until the ring and transport branches land: same names, same files.
export { PartitionerService, type RingChange, type TokenRange } from './ring/partitioner.service.js';
export { ClusterClient, type ClusterCallOptions } from './client/cluster-client.js';
export { ElasticaTransport } from './rpc/elastica-transport.js';
export { ClusterMessage, ClusterEvent } from './rpc/cluster-decorators.js';
export { ClusterContext } from './rpc/cluster-context.js';
