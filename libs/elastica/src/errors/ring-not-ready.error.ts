import { ElasticaError } from './elastica-error.js';

/** Thrown by lookups before any node owns a range (this node has not yet heard the cluster or chosen its tokens). */
export class RingNotReadyError extends ElasticaError {
  override readonly name = 'RingNotReadyError';
  constructor() {
    super('the ring is empty: no node owns a range yet (await PartitionerService.whenReady())');
  }
}
