import {
  BadRequestException,
  HttpException,
  HttpStatus,
  PayloadTooLargeException,
  ServiceUnavailableException,
} from '@nestjs/common';
import { BadMessageError } from '../replication/kv-messages.js';
import { QuorumError, TooFewReplicasUpError } from '../replication/quorum.js';
import { ClockDriftError } from '../store/hlc.js';
import { BodyBudgetError } from './http-limits.js';
import { BodyTooLargeError } from './read-body.js';

/** What a store error means to an HTTP client; anything unexpected stays a 500 (and is logged by Nest). */
export function toHttpError(error: unknown): unknown {
  if (error instanceof HttpException) return error;
  if (error instanceof BodyTooLargeError) return new PayloadTooLargeException(error.message);
  if (error instanceof BodyBudgetError) return new ServiceUnavailableException(error.message);
  if (error instanceof BadMessageError)
    return new BadRequestException(error.message.replace(/^bad kv\.\w+ message: /, ''));
  if (error instanceof TooFewReplicasUpError)
    return new ServiceUnavailableException(`not enough replicas are up: ${error.message}`);
  if (error instanceof QuorumError) {
    const message =
      error.replies === 0 && error.failures.size === 0
        ? 'no replica is known for this key yet (the node is still joining the ring); try again shortly'
        : `not enough replicas answered: ${error.message}`;
    return new ServiceUnavailableException(message);
  }
  if (error instanceof ClockDriftError) return new ServiceUnavailableException(error.message);
  return error;
}

export class MethodNotAllowedException extends HttpException {
  constructor(method: string, path: string, allowed: string[]) {
    super(
      {
        statusCode: HttpStatus.METHOD_NOT_ALLOWED,
        error: 'Method Not Allowed',
        message: `${method} is not supported on ${path}; use ${allowed.join(', ')}`,
        allow: allowed,
      },
      HttpStatus.METHOD_NOT_ALLOWED,
    );
  }
}
