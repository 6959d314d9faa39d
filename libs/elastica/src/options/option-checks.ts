import { ElasticaOptionsError } from '../errors/elastica-options.error.js';

// Shared by every place that validates a user-supplied option (resolve-options.ts, host-port.ts), so
// each refusal reads the same: the option's name, then what is wrong with the value given.

export function fail(option: string, problem: string): never {
  throw new ElasticaOptionsError(option, problem);
}

/** A value as the error message shows it: strings quoted, scalars as written, anything else by its type. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}
