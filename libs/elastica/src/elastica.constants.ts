// Every injection token and metadata key of the library, in one place as in Nest's own packages:
// a provider and the code that injects it can never disagree on which symbol they mean.

/** The validated options with every default applied (`ResolvedElasticaOptions`). */
export const ELASTICA_OPTIONS = Symbol('elastica:options');

/** The `Clock` services read time from; tests provide their own to drive time. */
export const CLOCK = Symbol('elastica:clock');

/** This node's `LocalNode`: its id, advertised address and generation. */
export const LOCAL_NODE = Symbol('elastica:local-node');

/** The `GossipChannel` gossip sends through: `TransportService` in a node, an in-memory network in tests. */
export const GOSSIP_CHANNEL = Symbol('elastica:gossip-channel');

/** The transportId of ElasticaTransport; @ClusterMessage/@ClusterEvent bind their handlers to it. */
export const ELASTICA_TRANSPORT = Symbol('elastica:transport');

/**
 * Marks a handler as declared by @ClusterMessage/@ClusterEvent (Nest passes it to addHandler as an
 * extra), so a plain @MessagePattern without a transport never receives cluster traffic.
 */
export const CLUSTER_HANDLER = 'elasticaClusterHandler';

/**
 * The library's own version, gossiped by every node (`members()[].version`). Kept equal to
 * libs/elastica/package.json's by a unit test (library-version.spec.ts): read from the file at run
 * time it would depend on where a bundler put it.
 */
export const LIBRARY_VERSION = '0.1.0';

/** Gossip key of the library version a node runs (LIBRARY_VERSION). */
export const VERSION_KEY = 'elastica.version';
/** Gossip key of the application version a node runs (the `appVersion` option), when it has one. */
export const APP_VERSION_KEY = 'elastica.appVersion';
