import { NodeUnavailableError, QueueFullError, RpcTimeoutError, UnknownNodeError } from '../errors/elastica-error.js';

/** How a ClusterClient call ended, as metrics label it. */
export type CallOutcome = 'ok' | 'remote_error' | 'timeout' | 'unavailable' | 'cancelled' | 'error';

/**
 * Watches ClusterClient calls (metrics, tracing): `start` is called as a `send` starts, and the function
 * it returns, if any, once as the call ends. With no observer registered a call pays one array check.
 */
export interface CallObserver {
  start(nodeId: string, pattern: string): ((outcome: CallOutcome) => void) | undefined;
}

export function outcomeOf(error: unknown): CallOutcome {
  if (error instanceof RpcTimeoutError) return 'timeout';
  if (error instanceof NodeUnavailableError || error instanceof UnknownNodeError || error instanceof QueueFullError)
    return 'unavailable';
  return 'error';
}
