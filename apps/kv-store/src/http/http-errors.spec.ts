import { describe, expect, it } from '@jest/globals';
import { HttpException } from '@nestjs/common';
import { QuorumError, TooFewReplicasUpError } from '../replication/quorum.js';
import { DiskFullError, StoreFullError } from '../store/storage-engine.js';
import { toHttpError } from './http-errors.js';

function answer(error: unknown): { status: number; message: string } {
  const http = toHttpError(error);
  if (!(http instanceof HttpException)) throw new Error(`not an HTTP error: ${String(http)}`);
  return { status: http.getStatus(), message: (http.getResponse() as { message: string }).message };
}

describe('toHttpError', () => {
  it('too few replicas up is a 503 that says how many are up and how many must answer', () => {
    expect(answer(new TooFewReplicasUpError(2, 1, 3))).toEqual({
      status: 503,
      message: "not enough replicas are up: only 1 of the key's 3 replicas is up, and 2 must answer (a majority of 3)",
    });
  });

  it('replicas that failed to answer are a 503 naming each failure; no ring yet says so', () => {
    expect(answer(new QuorumError(2, 1, new Map([['b', new Error('timed out')]])))).toEqual({
      status: 503,
      message: 'not enough replicas answered: 1 of the 2 replica answers needed (b: timed out)',
    });
    expect(answer(new QuorumError(1, 0, new Map())).message).toMatch(/still joining the ring/);
  });

  it('a write refused for want of room, here or by the replicas, is a 507 that says so', () => {
    expect(answer(new DiskFullError('12 bytes free'))).toEqual({
      status: 507,
      message: "this node's disk is full: 12 bytes free",
    });
    expect(answer(new StoreFullError('3 keys held')).status).toBe(507);
    const relayed = new QuorumError(2, 1, new Map([['b', new Error("this node's disk is full: 0 bytes free")]]));
    expect(answer(relayed)).toEqual({
      status: 507,
      message:
        "not enough replicas had room for the write: 1 of the 2 replica answers needed (b: this node's disk is full: 0 bytes free)",
    });
  });
});
