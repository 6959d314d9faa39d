/** What the store needs to know about the cluster (the app adapts Elastica's services to it). */
export interface KvCluster {
  readonly self: string;
  /** Copies of each key the cluster keeps (3 by default): quorums are majorities of it. */
  readonly replicationFactor: number;
  /**
   * Members that own ranges on the ring, counting those that are down right now: the live ring leaves
   * a down node out (its ranges go to the next nodes), but it is still part of the cluster, so it
   * still counts when deciding how many copies a key should have. A member that left does not count.
   */
  ringMembers(): number;
  /** The key's replicas in ring order, among the members that are up (the replication factor of them, fewer in a smaller cluster). */
  replicasOf(key: string): readonly string[];
  /**
   * The key's replicas followed by the next nodes in ring order (the replication factor plus two): a
   * superset of the key's replica set just before and after one or two ring changes.
   */
  candidatesOf(key: string): readonly string[];
  /** The key's replicas as they will be once `nodeId` has left the ring. */
  replicasWithout(key: string, nodeId: string): readonly string[];
  /** False for a node known to be down or gone: it is not asked, so requests fail fast. */
  isReachable(nodeId: string): boolean;
  /** Other members that are reachable now: the anti-entropy partners. */
  peers(): readonly string[];
}

/** Request/response to one peer (the app adapts `ClusterClient.send` to it); rejects on error or timeout. */
export interface PeerCaller {
  call<T>(nodeId: string, pattern: string, payload: unknown): Promise<T>;
}

/** Where the node's warnings go (the app passes its Nest logger; tests, nothing). */
export type KvLog = (level: 'log' | 'warn', message: string) => void;
