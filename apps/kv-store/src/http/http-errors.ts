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
import { DiskFullError, StoreFullError } from '../store/storage-engine.js';
import { BodyBudgetError } from './http-limits.js';
import { BodyTooLargeError } from './read-body.js';

/** How a replica's refusal for want of room reads, here or relayed from a peer (only its message crosses the wire). */
const FULL = /store is full|disk is full/;

export class InsufficientStorageException extends HttpException {
  constructor(message: string) {
    super(
      { statusCode: HttpStatus.INSUFFICIENT_STORAGE, error: 'Insufficient Storage', message },
      HttpStatus.INSUFFICIENT_STORAGE,
    );
  }
}

/** What a store error means to an HTTP client; anything unexpected stays a 500 (and is logged by Nest). */
export function toHttpError(error: unknown): unknown {
  if (error instanceof HttpException) return error;
  if (error instanceof StoreFullError || error instanceof DiskFullError)
    return new InsufficientStorageException(error.message);
  if (error instanceof BodyTooLargeError) return new PayloadTooLargeException(error.message);
  if (error instanceof BodyBudgetError) return new ServiceUnavailableException(error.message);
  if (error instanceof BadMessageError)
    return new BadRequestException(error.message.replace(/^bad kv\.\w+ message: /, ''));
  if (error instanceof TooFewReplicasUpError)
    return new ServiceUnavailableException(`not enough replicas are up: ${error.message}`);
  // Too few replicas took the write because they are full: nothing was acknowledged; more room is the cure.
  if (error instanceof QuorumError && [...error.failures.values()].some((f) => FULL.test(f.message)))
    return new InsufficientStorageException(`not enough replicas had room for the write: ${error.message}`);
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
