import { ElasticaError } from './elastica-error.js';

/** A gossiped token list that does not decode; the partitioner logs it, and that node owns nothing in this node's ring. */
export class TokenEncodingError extends ElasticaError {
  override readonly name = 'TokenEncodingError';
}
