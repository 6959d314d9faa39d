import { FrameTooLargeError } from '../errors/elastica-error.js';
import type { Connection } from './connection.js';
import { encodeError, encodeId, encodeValue, FrameType } from './frames.js';

/** A call to answer, from a peer or from this node itself; what the dispatcher needs. */
export interface RpcCall {
  readonly pattern: string;
  readonly data: unknown;
  readonly sender: string;
  readonly done: boolean;
  onCancel: (() => void) | undefined;
  next(value: unknown): void;
  reply(value: unknown): void;
  complete(): void;
  error(error: unknown): void;
}

/**
 * A request a peer made of this node: the dispatcher answers through it. Answers after the call
 * finished, was cancelled, or lost its connection are dropped. An answer that cannot be encoded or
 * would not fit (frame limit, or the peer's outbound queue) becomes an error answer instead.
 */
export class InboundCall implements RpcCall {
  done = false;
  /** Set by the dispatcher: how to stop the handler's work when the caller cancels. */
  onCancel: (() => void) | undefined;

  constructor(
    readonly id: number,
    readonly pattern: string,
    readonly data: unknown,
    /** The caller's node id, as its handshake told. */
    readonly sender: string,
    private readonly conn: Connection,
    private readonly limits: { maxFrameBytes: number; maxQueueBytes: number },
    private readonly forget: (call: InboundCall) => void,
  ) {}

  next(value: unknown): void {
    if (!this.done) this.send(() => encodeValue(FrameType.Next, this.id, value));
  }

  reply(value: unknown): void {
    if (this.finish()) this.send(() => encodeValue(FrameType.Reply, this.id, value));
  }

  complete(): void {
    if (this.finish()) this.conn.write(encodeId(FrameType.Complete, this.id));
  }

  error(error: unknown): void {
    if (this.finish()) this.conn.write(encodeError(this.id, error));
  }

  /** The caller cancelled or went away: stop the handler, answer nothing. */
  cancel(): void {
    if (!this.finish()) return;
    const stop = this.onCancel;
    this.onCancel = undefined;
    stop?.();
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.forget(this);
    return true;
  }

  private send(build: () => Buffer): void {
    let frame: Buffer;
    try {
      frame = build();
      if (frame.length - 4 > this.limits.maxFrameBytes) throw new FrameTooLargeError(frame.length - 4, this.limits.maxFrameBytes);
      if (this.conn.bufferedBytes + frame.length > this.limits.maxQueueBytes) {
        throw new Error(`reply dropped: the outbound queue to the caller is full (rpc.maxQueueBytes ${this.limits.maxQueueBytes})`);
      }
    } catch (error) {
      const stop = this.onCancel;
      if (!this.done) this.finish();
      this.onCancel = undefined;
      stop?.();
      this.conn.write(encodeError(this.id, { message: `could not send the reply: ${(error as Error).message}` }));
      return;
    }
    this.conn.write(frame);
  }
}
