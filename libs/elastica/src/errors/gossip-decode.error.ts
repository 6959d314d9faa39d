import { ElasticaError } from './elastica-error.js';

/** Thrown for a malformed gossip message; the core counts it and drops the message, nothing else. */
export class GossipDecodeError extends ElasticaError {
  override readonly name = 'GossipDecodeError';
}
