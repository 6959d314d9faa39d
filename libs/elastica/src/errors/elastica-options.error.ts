import { ElasticaError } from './elastica-error.js';

/** Thrown at start-up for an invalid option; the message names the option and what is wrong. */
export class ElasticaOptionsError extends ElasticaError {
  override readonly name = 'ElasticaOptionsError';
  constructor(
    readonly option: string,
    readonly problem: string,
  ) {
    super(`Invalid Elastica option \`${option}\`: ${problem}`);
  }
}
