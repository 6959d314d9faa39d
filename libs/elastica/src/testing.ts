// `elastica/testing`: NOT public API. The internals that this repo's tests, simulator and benchmarks
// drive directly (wire codecs, injection seams, an in-memory network), behind an entry point of their
// own so that `elastica` stays narrow. Anything here may change in any release.

// Injection seams: override these providers to drive time, identity or the network in tests
export { CLOCK, LOCAL_NODE, GOSSIP_CHANNEL, ELASTICA_TRANSPORT } from './elastica.constants.js';
export { systemClock, type Clock } from './common/clock.js';
export type { LocalNode } from './common/local-node.js';
export type { GossipChannel } from './network/gossip-channel.js';
export { InMemoryGossipNetwork, type InMemoryGossipNetworkOptions } from './network/in-memory-gossip-network.js';

// Options
export { resolveOptions } from './options/resolve-options.js';
export { parseHostPort, formatHostPort } from './common/host-port.js';

// Failure detection internals
export { phiNormal, phiExponential } from './failure-detector/phi.js';
export { HeartbeatWindow } from './failure-detector/heartbeat-window.js';

// Gossip: the wire codec, verdicts, randomness
export { encodeMessage, decodeMessage } from './gossip/wire/codec.js';
export { GossipDecodeError } from './errors/gossip-decode.error.js';
export type { GossipMessage, Delta, DigestEntry, Item, MessageHeader } from './gossip/wire/messages.js';
export { incarnationRef } from './gossip/wire/incarnation.js';
export { VERDICTS_KEY, MAX_VERDICTS, encodeVerdicts, decodeVerdicts, type Verdict } from './gossip/verdicts.js';
export { SeededRandom, randomInt, shuffle } from './common/random.js';

// Ring internals: the hash function, the token codec
export { murmur3 } from './ring/hash.js';
export { ownsRanges } from './ring/token-ring.js';
export { encodeTokens, decodeTokens, HANDBACK_PREFIX } from './ring/token-codec.js';
export { TokenEncodingError } from './errors/token-encoding.error.js';
export type { PartitionerMembership } from './ring/partitioner.service.js';

// Transport: frames, the handshake's protocol version, the dispatcher seam
export { FrameDecoder } from './transport/frame-decoder.js';
export { encodeRequest, decodeFrame, FrameType, type Frame } from './transport/frames.js';
export { PROTOCOL_VERSION, PROTOCOL_VERSION_MIN, type RefusalReason } from './transport/handshake.js';
export { SEED_LOOKUPS } from './elastica.constants.js';
export { SeedResolver, type SeedLookups } from './discovery/seed-resolver.js';
export type { RpcDispatcher } from './transport/transport.service.js';

// The admin client the `elastica` CLI uses
export { AdminClient, type AdminClientOptions } from './admin/admin-client.js';
export type { AdminStatus } from './admin/admin.types.js';

// Client internals
export { NodeResolver, type ResolvedNode } from './client/node-resolver.js';

// Token planning internals: the cohort allocation and the gossip keys the planner adds
export {
  allocateCohort,
  loadDensities,
  LOAD_MARGIN,
  type CohortCache,
  type CohortInputs,
} from './ring/cohort-allocation.js';
export { JOIN_KEY } from './ring/token-codec.js';
export {
  viewCohort,
  planCohort,
  ringOfView,
  parseJoin,
  isJoining,
  formatJoin,
  type CohortView,
  type CohortViewOptions,
  type JoinMark,
} from './ring/cohort-view.js';
