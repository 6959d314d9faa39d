import { NodeUnavailableError, QueueFullError, RpcTimeoutError, UnknownNodeError } from '../errors/elastica-error.js';

/** How a ClusterClient call ended, as metrics label it. */
export type CallOutcome = 'ok' | 'remote_error' | 'timeout' | 'unavailable' | 'cancelled' | 'error';

/** One observer's view of one call: told once how it ended; may give a trace context to send with it. */
export interface CallWatch {
  end(outcome: CallOutcome, error?: unknown): void;
  /** W3C traceparent, then tracestate after a newline: sent to peers whose protocol reads it. */
  traceContext?: string;
}

/**
 * Watches ClusterClient calls (metrics, tracing): `start` is called as a `send` starts (in the caller's
 * async context), and the watch it returns, if any, is ended once as the call ends. With no observer
 * registered a call pays one array check.
 */
export interface CallObserver {
  start(nodeId: string, pattern: string): CallWatch | undefined;
}

/**
 * Watches requests this node serves from peers (tracing): `serve` must call `dispatch` once, in the
 * async context the handler should run in; it may set `call.onEnd` to hear how the call ended.
 */
export interface InboundObserver {
  serve(call: ObservedInboundCall, dispatch: () => void): void;
}

export interface ObservedInboundCall {
  readonly pattern: string;
  readonly sender: string;
  readonly traceContext?: string;
  onEnd?: ((outcome: 'ok' | 'error' | 'cancelled', error?: unknown) => void) | undefined;
}

export function outcomeOf(error: unknown): CallOutcome {
  if (error instanceof RpcTimeoutError) return 'timeout';
  if (error instanceof NodeUnavailableError || error instanceof UnknownNodeError || error instanceof QueueFullError)
    return 'unavailable';
  return 'error';
}
