import type { IncomingMessage } from 'node:http';
import { BodyBudgetError, type BodyReservation } from './http-limits.js';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the value is larger than ${limit} bytes, the most this store accepts`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * The request body as UTF-8 text, refusing more than `limit` bytes as soon as that is known (from
 * Content-Length, or while reading): a client can never make the node buffer more than the limit.
 * With a `reservation`, each chunk is also taken from the node's budget of body bytes in flight as it
 * arrives, and the body is refused (BodyBudgetError) when the budget cannot spare it; the caller
 * releases the reservation once it is done with the body.
 */
export function readBody(req: IncomingMessage, limit: number, reservation?: BodyReservation): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume(); // discard the rest; the response says why
        reject(new BodyTooLargeError(limit));
        return;
      }
      if (reservation && !reservation.take(chunk.length)) {
        cleanup();
        req.resume();
        reject(new BodyBudgetError(reservation.limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
