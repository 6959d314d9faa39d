import type { ElasticaCluster } from '../cluster/elastica-cluster.js';
import type { Shutdown } from '../lifecycle/shutdown.js';
import type { KvStoreService } from './kv-store.service.js';

export interface DecommissionRequest {
  store: KvStoreService;
  cluster: ElasticaCluster;
  shutdown: Shutdown;
  log(level: 'log' | 'error', message: string): void;
}

/** What a decommission request (`POST /admin/leave`, `elastica leave`) is told once it started. */
export const DECOMMISSION_STARTED =
  'handing data over to the remaining replicas, then leaving the cluster and exiting; if the handoff cannot complete, the node stays a member and says why in its log and in GET /admin/stats (lastDecommission)';

/**
 * Starts the decommission (once; a second request joins the first), then closes the app: exit 0 once
 * left, 1 if writes that arrived meanwhile could not all be handed over. Returns why it is refused, if it is:
 * no other node is up to take this node's data.
 */
export function requestDecommission(r: DecommissionRequest, via: string): string | undefined {
  const { store, cluster, shutdown } = r;
  if (!store.isDecommissioning && cluster.peers().length === 0 && store.node.storage.size > 0)
    return `no other node is up to hand this node's ${store.node.storage.size} keys to: stop it instead, or start another node first`;
  if (store.isDecommissioning) return undefined;
  r.log('log', `decommission requested ${via}`);
  store.decommission().then(
    (outcome) => {
      if (outcome.status !== 'aborted') shutdown.request(outcome.status === 'left' ? 0 : 1);
    },
    (error: unknown) => {
      r.log('error', `decommission failed: ${(error as Error).message}`);
      shutdown.request(1);
    },
  );
  return undefined;
}
