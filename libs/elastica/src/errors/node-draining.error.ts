import { NodeUnavailableError } from './elastica-error.js';

/** The code a draining node's refusal carries on the wire, so the caller can tell it from other remote errors. */
export const DRAINING_CODE = 'ELASTICA_DRAINING';

/**
 * The node is shutting down (`shutdown.leave`) and takes no new cluster calls; the call was not run,
 * so retrying it on another node is safe. A NodeUnavailableError, like any other node that cannot serve.
 */
export class NodeDrainingError extends NodeUnavailableError {
  override name = 'NodeDrainingError';
  constructor(nodeId: string) {
    super(nodeId, 'it is shutting down and takes no new calls (the call was not run; retry it on another node)');
  }
}

/** Whether a remote error payload is a draining node's refusal. */
export function isDrainingRefusal(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === DRAINING_CODE;
}
