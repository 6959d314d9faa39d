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
  /** The caller's trace context (W3C traceparent, then tracestate after a newline), when it sent one. */
  readonly traceContext?: string;
  /** Set by an inbound observer (tracing): called once as the call ends, however it ends. */
  onEnd?: ((outcome: 'ok' | 'error' | 'cancelled', error?: unknown) => void) | undefined;
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
  onEnd: ((outcome: 'ok' | 'error' | 'cancelled', error?: unknown) => void) | undefined = undefined;
  traceContext: string | undefined = undefined;

  constructor(
    readonly id: number,
    readonly pattern: string,
    readonly data: unknown,
    /** The caller's node id, as its handshake told. */
    readonly sender: string,
    private readonly conn: Connection,
    private readonly limits: { maxFrameBytes: number; maxQueueBytes: number },
    /** The connection's calls awaiting an answer, keyed by id; this call leaves it when it finishes. */
    private readonly open: Map<number, InboundCall>,
  ) {}

  next(value: unknown): void {
    if (!this.done) this.send(FrameType.Next, value);
  }

  reply(value: unknown): void {
    if (this.finish('ok')) this.send(FrameType.Reply, value);
  }

  complete(): void {
    if (this.finish('ok')) this.conn.write(encodeId(FrameType.Complete, this.id));
  }

  error(error: unknown): void {
    if (this.finish('error', error)) this.conn.write(encodeError(this.id, error));
  }

  /** The caller cancelled or went away: stop the handler, answer nothing. */
  cancel(): void {
    if (!this.finish('cancelled')) return;
    const stop = this.onCancel;
    this.onCancel = undefined;
    stop?.();
  }

  private finish(outcome: 'ok' | 'error' | 'cancelled', error?: unknown): boolean {
    if (this.done) return false;
    this.done = true;
    this.open.delete(this.id);
    if (this.onEnd) {
      const end = this.onEnd;
      this.onEnd = undefined;
      end(outcome, error);
    }
    return true;
  }

  private send(type: FrameType.Next | FrameType.Reply, value: unknown): void {
    let frame: Buffer;
    try {
      frame = encodeValue(type, this.id, value);
      if (frame.length - 4 > this.limits.maxFrameBytes)
        throw new FrameTooLargeError(frame.length - 4, this.limits.maxFrameBytes);
      if (this.conn.bufferedBytes + frame.length > this.limits.maxQueueBytes) {
        throw new Error(
          `reply dropped: the outbound queue to the caller is full (rpc.maxQueueBytes ${this.limits.maxQueueBytes})`,
        );
      }
    } catch (error) {
      const stop = this.onCancel;
      if (!this.done) this.finish('error', error);
      this.onCancel = undefined;
      stop?.();
      this.conn.write(encodeError(this.id, { message: `could not send the reply: ${(error as Error).message}` }));
      return;
    }
    this.conn.write(frame);
  }
}
