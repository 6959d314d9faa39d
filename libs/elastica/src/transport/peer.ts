import { FrameTooLargeError, NodeUnavailableError, QueueFullError } from '../errors/elastica-error.js';
import type { RpcOptions } from '../options/elastica-options.js';
import type { Connection } from './connection.js';
import type { Hello } from './handshake.js';

/** A call this node made and awaits an answer to. */
export interface OutboundCall {
  readonly pattern: string;
  readonly nodeId: string;
  /** The trace context to send with the request (tracing), if any. */
  readonly traceContext?: string;
  next(value: unknown): void;
  /** Single-value reply: next then complete. */
  reply(value: unknown): void;
  complete(): void;
  error(error: unknown): void;
  /** Remote error frame, turned into a RemoteError by the caller. */
  remoteError(error: unknown): void;
}

/** A caller of connect() waiting for the handshake. */
export interface Waiter {
  resolve(nodeId: string): void;
  reject(error: Error): void;
}

/**
 * Everything this node keeps about one other node, keyed by its advertised address (and by the other
 * addresses it turned out to answer at): the one established connection (if any), the one in handshake
 * (if any), what waits to be sent until the connection is up (bounded in bytes), the calls awaiting
 * answers, and the reconnect backoff.
 */
export class Peer {
  conn: Connection | undefined;
  /** The connection in handshake, either direction. */
  connecting: Connection | undefined;
  /**
   * Acceptor side: a second established connection from the same run as `conn`, never written to (see
   * docs/ARCHITECTURE.md, "The same run dialled again"): closed by the dialer, or promoted when it sends.
   */
  standby: Connection | undefined;
  /** Other addresses that lead to this entry, oldest first (bounded by the directory). */
  readonly aliases: string[] = [];
  /** Set once this entry turned out to be another name of a node known under `mergedInto`. */
  mergedInto: Peer | undefined;
  /** The address is this node's own (a dial reached this very node): never dialled again. */
  self = false;
  nodeId: string | undefined;
  generation: number | undefined;
  failures = 0;
  /** While now < this, the peer is considered unreachable and sends fail at once. */
  retryAt = 0;
  lastError = '';
  lastUsed = 0;
  retryTimer: NodeJS.Timeout | undefined;
  /** Its dial was aborted because the network came back (see Redialer.reachableAgain): retry at once. */
  redialEarly = false;
  /** Set after our dial lost a simultaneous-dial tie-break: we wait for theirs until this deadline. */
  awaitInboundTimer: NodeJS.Timeout | undefined;
  /** The registry's count of established connections when our last dial left. */
  dialEpoch = 0;

  private queue: Buffer[] = [];
  private queueBytes = 0;
  private readonly calls = new Map<number, OutboundCall>();
  private waiters: Waiter[] = [];

  constructor(readonly address: string) {}

  get label(): string {
    return this.nodeId ? `${this.nodeId} (${this.address})` : this.address;
  }

  /** The entry this one now lives on: itself, unless it turned out to be another name of a known node. */
  current(): Peer {
    return this.mergedInto ? this.mergedInto.current() : this;
  }

  clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.awaitInboundTimer);
    this.retryTimer = undefined;
    this.awaitInboundTimer = undefined;
  }

  /** `conn` is the established connection now, with the run `hello` names: the backoff is over. */
  connectedOn(conn: Connection, hello: Hello): void {
    this.conn = conn;
    this.nodeId = hello.nodeId;
    this.generation = hello.generation;
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = '';
    this.lastUsed = Date.now();
    this.clearTimers();
  }

  /** This node is shutting down: callers and calls fail, every connection goes. */
  shutDown(): void {
    this.clearTimers();
    this.rejectWaiters(new NodeUnavailableError(this.address, 'this node is shutting down'));
    this.failCalls(new NodeUnavailableError(this.nodeId ?? this.address, 'this node is shutting down'));
    this.connecting?.destroy('node shutting down');
    this.standby?.close('node shutting down');
    this.conn?.close('node shutting down');
  }

  /** Bytes waiting for the connection to come up. */
  get queuedBytes(): number {
    return this.queueBytes;
  }

  get callsInFlight(): number {
    return this.calls.size;
  }

  /** Nothing rides on this entry: no connection, nothing queued, no call or caller waiting. */
  holdsNothing(): boolean {
    return (
      !this.conn &&
      !this.connecting &&
      !this.standby &&
      this.calls.size === 0 &&
      this.queue.length === 0 &&
      this.waiters.length === 0
    );
  }

  /** A connection is on its way: our dial in handshake, or theirs awaited after a lost tie-break. */
  get connectionUnderway(): boolean {
    return this.connecting !== undefined || this.awaitInboundTimer !== undefined;
  }

  /**
   * Writes a frame on the connection, or queues it until one is up, asking `dial` for one when none is
   * on its way; throws (for callers that care) when it cannot. `nodeIdForErrors` names the peer in them.
   */
  send(
    frame: Buffer,
    rpc: Pick<RpcOptions, 'maxFrameBytes' | 'maxQueueBytes'>,
    dial: (peer: Peer) => void,
    nodeIdForErrors?: string,
  ): void {
    const bodyBytes = frame.length - 4;
    if (bodyBytes > rpc.maxFrameBytes) throw new FrameTooLargeError(bodyBytes, rpc.maxFrameBytes);
    const conn = this.conn;
    if (conn) {
      if (conn.bufferedBytes + frame.length > rpc.maxQueueBytes) {
        throw new QueueFullError(
          this.label,
          `${conn.bufferedBytes} bytes waiting, rpc.maxQueueBytes ${rpc.maxQueueBytes}`,
        );
      }
      // The connection stamps the time once per flush (a clock read per frame is measurable here);
      // detach() folds it into lastUsed.
      conn.used = true;
      conn.write(frame);
      return;
    }
    if (this.self) throw new NodeUnavailableError(nodeIdForErrors ?? this.address, "it is this node's own address");
    const now = Date.now();
    this.lastUsed = now;
    if (!this.connectionUnderway) {
      if (now < this.retryAt) {
        throw new NodeUnavailableError(
          nodeIdForErrors ?? this.label,
          `unreachable (${this.lastError}); next attempt in ${Math.ceil(this.retryAt - now)} ms`,
        );
      }
      dial(this);
    }
    if (this.queueBytes + frame.length > rpc.maxQueueBytes) {
      throw new QueueFullError(
        this.label,
        `${this.queueBytes} bytes waiting for the connection, rpc.maxQueueBytes ${rpc.maxQueueBytes}`,
      );
    }
    this.queue.push(frame);
    this.queueBytes += frame.length;
  }

  /** Forgets `conn` as the established connection: the calls awaiting answers on it fail now. */
  detach(conn: Connection, reason: string): void {
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.lastUsed = Math.max(this.lastUsed, conn.lastUsedAt);
    this.failCalls(new NodeUnavailableError(this.nodeId ?? this.address, `connection lost (${reason})`));
  }

  /** The connection is up: what was queued leaves on it, in order, and connect() callers learn whom they reached. */
  flushTo(conn: Connection, nodeId: string): void {
    for (const frame of this.takeQueue()) conn.write(frame);
    for (const waiter of this.takeWaiters()) waiter.resolve(nodeId);
  }

  addWaiter(waiter: Waiter): void {
    this.waiters.push(waiter);
  }

  rejectWaiters(error: Error): void {
    for (const waiter of this.takeWaiters()) waiter.reject(error);
  }

  addCall(id: number, call: OutboundCall): void {
    this.calls.set(id, call);
  }

  /** Stops awaiting call `id`; false if it was not awaited (answered, failed, or moved to another entry). */
  forgetCall(id: number): boolean {
    return this.calls.delete(id);
  }

  /** The call a NEXT answers, if still awaited. */
  awaitedCall(id: number): OutboundCall | undefined {
    return this.calls.get(id);
  }

  /** The call a final answer (reply, complete, error) ends: no longer awaited, before it hears of it. */
  endCall(id: number): OutboundCall | undefined {
    const call = this.calls.get(id);
    if (call) this.calls.delete(id);
    return call;
  }

  /** Calls awaiting answers fail: their answers would have come on a connection that is gone. */
  failCalls(error: Error): void {
    if (this.calls.size === 0) return;
    const calls = [...this.calls.values()];
    this.calls.clear();
    for (const call of calls) call.error(error);
  }

  /**
   * Nothing waiting here will be sent: the queue is dropped, calls and connect() callers fail. Returns
   * how many frames were dropped.
   */
  abandon(error: Error): number {
    const dropped = this.takeQueue().length;
    this.failCalls(error);
    this.rejectWaiters(error);
    return dropped;
  }

  /** This entry turned out to be another name of `into`'s node: what waited here goes on there. */
  handOverTo(into: Peer): void {
    for (const [id, call] of this.calls) into.calls.set(id, call);
    this.calls.clear();
    const queuedBytes = this.queueBytes;
    const queued = this.takeQueue();
    const waiters = this.takeWaiters();
    const conn = into.conn;
    if (conn) {
      // Both queues were bounded by rpc.maxQueueBytes: this is at most one bound more, once.
      if (queued.length > 0) conn.used = true;
      for (const frame of queued) conn.write(frame);
      for (const waiter of waiters) waiter.resolve(into.nodeId!);
    } else {
      for (const frame of queued) into.queue.push(frame);
      into.queueBytes += queuedBytes;
      for (const waiter of waiters) into.waiters.push(waiter);
    }
  }

  private takeQueue(): Buffer[] {
    const queued = this.queue;
    this.queue = [];
    this.queueBytes = 0;
    return queued;
  }

  private takeWaiters(): Waiter[] {
    const waiters = this.waiters;
    this.waiters = [];
    return waiters;
  }
}
