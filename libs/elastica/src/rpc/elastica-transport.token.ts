/** The transportId of ElasticaTransport; @ClusterMessage/@ClusterEvent bind their handlers to it. */
export const ELASTICA_TRANSPORT = Symbol('elastica:transport');

/** Marks a handler as declared by @ClusterMessage/@ClusterEvent (Nest passes it to addHandler as an extra). */
export const CLUSTER_HANDLER = 'elasticaClusterHandler';
