import type { Connection } from './connection.js';

/** A call this node made and awaits an answer to. */
export interface OutboundCall {
  readonly pattern: string;
  readonly nodeId: string;
  next(value: unknown): void;
  /** Single-value reply: next then complete. */
  reply(value: unknown): void;
  complete(): void;
  error(error: unknown): void;
  /** Remote error frame, turned into a RemoteError by the caller. */
  remoteError(error: unknown): void;
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
   * Acceptor side: a second established connection from the same node and generation as `conn`. Never
   * written to. The dialer either closes it as a duplicate (it reached us under another name: `conn`
   * stays) or sends on it (it lost `conn`, which we have not noticed yet: this one replaces it).
   */
  standby: Connection | undefined;
  /** Other addresses that lead to this entry, oldest first (bounded by the registry). */
  readonly aliases: string[] = [];
  /** Set once this entry turned out to be another name of a node known under `mergedInto`. */
  mergedInto: Peer | undefined;
  /** The address is this node's own (a dial reached this very node): never dialled again. */
  self = false;
  nodeId: string | undefined;
  generation: number | undefined;
  queue: Buffer[] = [];
  queueBytes = 0;
  readonly calls = new Map<number, OutboundCall>();
  failures = 0;
  /** While now < this, the peer is considered unreachable and sends fail at once. */
  retryAt = 0;
  lastError = '';
  lastUsed = 0;
  retryTimer: NodeJS.Timeout | undefined;
  /** Its dial was aborted because the network came back (see ConnectionRegistry.reachableAgain): retry at once. */
  redialEarly = false;
  /** Callers of connect() waiting for the handshake. */
  waiters: { resolve(nodeId: string): void; reject(error: Error): void }[] = [];
  /** Set after our dial lost a simultaneous-dial tie-break: we wait for theirs until this deadline. */
  awaitInboundTimer: NodeJS.Timeout | undefined;
  /** The registry's count of established connections when our last dial left. */
  dialEpoch = 0;

  constructor(readonly address: string) {}

  get label(): string {
    return this.nodeId ? `${this.nodeId} (${this.address})` : this.address;
  }

  clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.awaitInboundTimer);
    this.retryTimer = undefined;
    this.awaitInboundTimer = undefined;
  }
}
