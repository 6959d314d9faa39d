import type { IncomingMessage } from 'node:http';
import { BodyBudgetError, type BodyReservation } from './http-limits.js';

export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`the value is larger than ${limit} bytes, the most this store accepts`);
    this.name = 'BodyTooLargeError';
  }
}

/** How long the node keeps reading, to drop it, the rest of a body it has refused (see discardRest). */
const DISCARD_MS = 5_000;
/** How many bytes of a refused body the node reads and drops at most: the limit, and never less than 1 MiB. */
const discardBytes = (limit: number): number => Math.max(limit, 1024 * 1024);

/**
 * Reads and drops the rest of a refused body, so that the client can finish sending it and read the
 * refusal on a connection that stays open. Closing with the client's bytes unread makes the kernel reset
 * the connection (RFC 9112 §9.6): a client still writing then gets EPIPE or ECONNRESET, often before
 * it has read the answer. A client that keeps sending past `maxBytes` or `DISCARD_MS` is cut off:
 * dropping costs no memory, but the node owes it no more than that.
 */
function discardRest(req: IncomingMessage, maxBytes: number): void {
  let dropped = 0;
  const stop = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', stop);
    req.off('close', stop);
    req.off('error', stop);
  };
  const cutOff = (): void => {
    stop();
    req.socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    dropped += chunk.length;
    if (dropped > maxBytes) cutOff();
  };
  const timer = setTimeout(cutOff, DISCARD_MS).unref();
  req.on('data', onData);
  req.on('end', stop);
  req.on('close', stop);
  req.on('error', stop);
  req.resume();
}

/**
 * The request body as UTF-8 text, refusing more than `limit` bytes as soon as that is known (from
 * Content-Length, or while reading): a client can never make the node buffer more than the limit.
 * With a `reservation`, each chunk is also taken from the node's budget of body bytes in flight as it
 * arrives, and the body is refused (BodyBudgetError) when the budget cannot spare it; the caller
 * releases the reservation once it is done with the body. A refused body's rest is read and dropped
 * (within bounds), so the client gets the refusal on a connection it can go on using.
 */
export function readBody(req: IncomingMessage, limit: number, reservation?: BodyReservation): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    discardRest(req, discardBytes(limit));
    return Promise.reject(new BodyTooLargeError(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        discardRest(req, discardBytes(limit));
        reject(new BodyTooLargeError(limit));
        return;
      }
      if (reservation && !reservation.take(chunk.length)) {
        cleanup();
        discardRest(req, discardBytes(limit));
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
