import { ElasticaError } from './elastica-error.js';

/**
 * `GossipService.forget` was asked to remove a node this node does not judge down (up, joining,
 * leaving, left, or this node itself): only a dead node may be removed by hand, a live one leaves.
 */
export class NodeNotDownError extends ElasticaError {
  override name = 'NodeNotDownError';
  constructor(
    readonly nodeId: string,
    readonly status: string,
  ) {
    super(
      `node ${nodeId} is ${status}, not down: only a node this node judges down can be forgotten (a live node leaves instead)`,
    );
  }
}
