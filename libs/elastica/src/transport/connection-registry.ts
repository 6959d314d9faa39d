import type { Socket } from 'node:net';
import { NodeUnavailableError, QueueFullError } from '../errors/elastica-error.js';
import type { HostPort, RpcOptions, TlsOptions } from '../options/elastica-options.js';
import { Admission } from './admission.js';
import { Connection, describeClose, type CloseInfo, type ConnectionEvents } from './connection.js';
import {
  encodeEvent,
  encodeGossip,
  encodeId,
  encodeRequest,
  encodeTracedRequest,
  FrameType,
  type Frame,
} from './frames.js';
import { TRACE_CONTEXT_PROTOCOL, type LocalIdentity } from './handshake.js';
import { IncomingTraffic, type IncomingHandlers } from './incoming-traffic.js';
import type { OutboundCall, Peer } from './peer.js';
import { PeerDirectory } from './peer-directory.js';
import { Redialer } from './redial.js';
import { Sockets } from './sockets.js';
import { connectionsOf, TransportCounters, type ConnectionInfo, type TransportStats } from './transport-stats.js';

/** Admin clients (the CLI) connected at once at most: each is authenticated, so this only bounds a runaway script. */
const MAX_ADMINS = 16;

export interface TransportLogger {
  log(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

// Were defined here; kept importable from here.
export { splitAddress } from '../common/host-port.js';
export type { IncomingHandlers } from './incoming-traffic.js';
export { MAX_ALIASES } from './peer-directory.js';
export type { ConnectionInfo, TransportStats } from './transport-stats.js';

/**
 * The one connection per pair of nodes (docs/ARCHITECTURE.md, "Transport and RPC"): the API the
 * transport service uses, and what becomes of a peer's connections once established, over the peer
 * directory, admission (crossing-dials.ts decides), redials and sockets.
 */
export class ConnectionRegistry {
  private readonly sockets: Sockets;
  private readonly peers: PeerDirectory;
  private readonly redial: Redialer;
  private readonly unattached = new Set<Connection>();
  /** Established admin clients (Hello.role): authenticated, never members, bounded by MAX_ADMINS. */
  private readonly admins = new Set<Connection>();
  private readonly incoming: IncomingTraffic;
  private readonly counters: TransportCounters;
  private readonly admission: Admission;
  private nextCallId = 0;
  private closed = false;
  /** Connections established so far (see Peer.dialEpoch). */
  private establishments = 0;
  /** Made once, not per frame sent; an arrow, so that it calls the dial in force (the specs stand in for it). */
  private readonly dialPeer = (peer: Peer): void => this.dial(peer);
  private readonly events: ConnectionEvents = {
    admit: (conn, hello) => (hello.role === 'admin' ? this.admitAdmin() : this.admission.admit(conn, hello)),
    commit: (conn) => (conn.remoteHello?.role === 'admin' ? this.commitAdmin(conn) : this.admission.commit(conn)),
    reached: (conn, hello) => this.admission.reached(conn, hello),
    established: (conn) => this.established(conn),
    frame: (conn, frame) => this.onFrame(conn, frame),
    closed: (conn, info) => this.onClosed(conn, info),
  };

  constructor(
    private readonly local: LocalIdentity,
    private readonly rpc: RpcOptions,
    private readonly handlers: IncomingHandlers,
    private readonly logger: TransportLogger,
    random: () => number = Math.random,
    tls?: TlsOptions,
  ) {
    this.sockets = new Sockets(rpc, tls);
    this.incoming = new IncomingTraffic(handlers, rpc);
    this.counters = new TransportCounters(logger);
    this.peers = new PeerDirectory((message) => logger.log(message));
    this.admission = new Admission(local, this.peers, this.counters, this.unattached, () => this.closed);
    // Arrows, so that the dialFailed in force is the one called (the specs stand in for it).
    this.redial = new Redialer(rpc, random, this.peers, {
      dial: this.dialPeer,
      dialFailed: (peer, reason) => this.dialFailed(peer, reason),
      isClosed: () => this.closed,
      debug: (message) => logger.debug(message),
    });
  }

  /** Calls peers made of this node that are not answered yet (what a drain waits for). */
  get inboundInFlight(): number {
    return this.incoming.inFlight;
  }

  /** Binds and listens; resolves with the bound port. */
  listen(bind: HostPort): Promise<number> {
    return this.sockets.listen(bind, {
      accepted: (socket) => this.accept(socket),
      tlsRefused: (reason, remote, message) => this.counters.tlsRefused(reason, remote, message),
      warn: (message) => this.logger.warn(message),
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const conn of this.unattached) conn.destroy('node shutting down');
    for (const conn of [...this.admins]) conn.close('node shutting down');
    for (const peer of this.peers.entries()) peer.shutDown();
    await this.sockets.close();
  }

  // ---- sending ---------------------------------------------------------------------------------

  /** Best effort: a gossip message that cannot be queued is dropped (and counted). */
  sendGossip(address: string, bytes: Uint8Array): void {
    if (this.closed) return;
    const peer = this.peerFor(address);
    if (peer.self) return;
    try {
      this.enqueue(peer, encodeGossip(bytes));
    } catch {
      this.counters.gossipDropped++;
    }
  }

  /**
   * Drops the established connection to `address`, if any: see docs/ARCHITECTURE.md, "A node judged down
   * loses its connection".
   */
  reset(address: string, reason: string): void {
    const entry = this.peers.get(address);
    if (!entry) return;
    const peer = entry.current(); // an alias's connection lives on the entry it was merged into
    // The standby goes too: across a partition it is as stuck as the connection it stands by for.
    const standby = peer.standby;
    peer.standby = undefined;
    standby?.destroy(reason);
    peer.conn?.destroy(reason);
  }

  /** Sends a request; answers go to `call`. Throws a typed error at once when it cannot be sent. Returns the cancel. */
  call(address: string, pattern: string, data: unknown, call: OutboundCall): () => void {
    const peer = this.peerFor(address);
    this.assertOpen(call.nodeId);
    if (peer.callsInFlight >= this.rpc.maxInFlight)
      throw new QueueFullError(peer.label, `${this.rpc.maxInFlight} requests in flight (rpc.maxInFlight)`);
    this.nextCallId = (this.nextCallId + 1) >>> 0;
    const id = this.nextCallId;
    // Only a connection that negotiated it reads a trace context; a call queued before any connection goes without.
    const trace = call.traceContext;
    const frame =
      trace !== undefined && (peer.current().conn?.protocol ?? 0) >= TRACE_CONTEXT_PROTOCOL
        ? encodeTracedRequest(id, pattern, data, trace)
        : encodeRequest(id, pattern, data);
    this.enqueue(peer, frame, call.nodeId);
    peer.addCall(id, call);
    return () => {
      // The entry may have turned out to be another name of a known node since: its calls moved there.
      const owner = peer.current();
      if (!owner.forgetCall(id)) return;
      try {
        this.enqueue(owner, encodeId(FrameType.Cancel, id));
      } catch {
        // The peer is gone or swamped; its side of the call dies with the connection.
      }
    };
  }

  /** Connects (if not already) and resolves with the node id the peer's handshake gave. */
  connect(address: string): Promise<string> {
    const peer = this.peerFor(address);
    if (peer.conn) return Promise.resolve(peer.nodeId!);
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new NodeUnavailableError(address, 'this node is shutting down'));
      if (peer.self) return reject(new NodeUnavailableError(address, "it is this node's own address"));
      peer.lastUsed = Date.now();
      if (!peer.connectionUnderway) {
        if (Date.now() < peer.retryAt)
          return reject(new NodeUnavailableError(address, `unreachable (${peer.lastError})`));
        this.dial(peer);
      }
      peer.addWaiter({ resolve, reject });
    });
  }

  /** Fire-and-forget; throws a typed error at once when it cannot be queued. */
  emit(address: string, nodeId: string, pattern: string, data: unknown): void {
    const peer = this.peerFor(address);
    this.assertOpen(nodeId);
    this.enqueue(peer, encodeEvent(pattern, data), nodeId);
  }

  private assertOpen(nodeId: string): void {
    if (this.closed) throw new NodeUnavailableError(nodeId, 'this node is shutting down');
  }

  /** Queues a frame for a peer, dialling when needed; throws (for callers that care) when it cannot. */
  private enqueue(peer: Peer, frame: Buffer, nodeIdForErrors?: string): void {
    peer.send(frame, this.rpc, this.dialPeer, nodeIdForErrors);
  }

  // ---- connections -----------------------------------------------------------------------------

  private peerFor(address: string): Peer {
    return this.peers.peerFor(address);
  }

  private dial(peer: Peer): void {
    clearTimeout(peer.retryTimer);
    peer.retryTimer = undefined;
    const conn = this.sockets.dial(
      peer.address,
      (socket) => this.wrap(socket, 'outbound'),
      (error) => {
        peer.connecting = undefined;
        this.dialFailed(peer, `cannot dial ${peer.address}: ${error.message}`);
      },
    );
    if (!conn) return;
    conn.owner = peer;
    peer.connecting = conn;
    peer.dialEpoch = this.establishments;
  }

  private accept(socket: Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    // Bounded: past the limit the oldest stranger goes (a peer that is really handshaking finishes
    // in a round trip, so a flood has to outpace it to crowd it out).
    if (this.unattached.size >= this.rpc.maxPendingHandshakes) {
      const oldest = this.unattached.values().next().value!;
      this.unattached.delete(oldest);
      oldest.refuse(
        'overloaded',
        `more than ${this.rpc.maxPendingHandshakes} connections in handshake (rpc.maxPendingHandshakes); the oldest is dropped`,
      );
    }
    this.unattached.add(this.wrap(socket, 'inbound'));
  }

  private wrap(socket: Socket, direction: 'inbound' | 'outbound'): Connection {
    return new Connection(
      socket,
      direction,
      this.local,
      this.rpc.maxFrameBytes,
      this.rpc.handshakeTimeoutMs,
      this.events,
    );
  }

  private admitAdmin(): { reason: 'overloaded' | 'duplicate'; message: string } | undefined {
    if (this.closed) return { reason: 'duplicate', message: 'node shutting down' };
    if (this.admins.size >= MAX_ADMINS)
      return { reason: 'overloaded', message: `${MAX_ADMINS} admin clients are connected already` };
    return undefined;
  }

  private commitAdmin(conn: Connection): { reason: 'overloaded' | 'duplicate'; message: string } | undefined {
    this.unattached.delete(conn);
    return this.admitAdmin();
  }

  private established(conn: Connection): void {
    if (conn.remoteHello?.role === 'admin') {
      this.admins.add(conn);
      this.incoming.open(conn);
      this.logger.log(`admin client ${conn.remoteHello.nodeId} connected from ${conn.remote}`);
      return;
    }
    const peer = conn.owner as Peer;
    const hello = conn.remoteHello!;
    if (peer.connecting === conn) peer.connecting = undefined;
    if (peer.conn && peer.conn !== conn) {
      if (this.admission.isCrossingLoser(conn)) {
        this.holdCrossingLoser(peer, conn);
        return;
      }
      if (conn.direction === 'inbound' && peer.nodeId === hello.nodeId && peer.generation === hello.generation) {
        this.holdStandby(peer, conn);
        return;
      }
      conn.close('duplicate connection');
      return;
    }
    // A node dialled by another address (a seed written differently) is also known by its advertised one.
    if (hello.advertise !== peer.address) {
      const canonical = this.peers.get(hello.advertise);
      if (!canonical) this.peers.alias(hello.advertise, peer);
      else if (canonical !== peer && !canonical.conn && !canonical.connecting) this.peers.merge(canonical, peer);
    }
    const restarted = peer.generation !== undefined && peer.generation !== hello.generation;
    const wasUnreachable = peer.failures > 0;
    peer.connectedOn(conn, hello);
    this.redial.connected(peer);
    this.establishments++;
    const previous = this.peers.bindNode(hello.nodeId, peer);
    if (previous) this.redial.forgetIfIdle(previous);
    this.incoming.open(conn);
    peer.flushTo(conn, hello.nodeId);
    this.logger.log(`connected to ${peer.label} (${conn.direction}${restarted ? ', peer restarted' : ''})`);
    this.redial.settleAllAwaiting(peer);
    if (wasUnreachable) this.redial.reachableAgain(peer);
  }

  /** A second connection from the node `peer` is connected to, same run: held unused (see Peer.standby). */
  private holdStandby(peer: Peer, conn: Connection): void {
    const older = peer.standby;
    peer.standby = conn;
    this.incoming.open(conn);
    if (older) older.close('superseded by a newer connection from the same node');
    this.logger.debug(`second connection from ${peer.label}: held until the peer closes it or sends on it`);
  }

  /** A crossing's loser, kept to read what the peer sent on it until it gives it up (bounded in time). */
  private holdCrossingLoser(peer: Peer, conn: Connection): void {
    this.holdStandby(peer, conn);
    const timer = setTimeout(() => {
      if (peer.standby !== conn) return;
      peer.standby = undefined;
      conn.close('the peer never gave up the losing connection of a crossing dial');
    }, this.rpc.handshakeTimeoutMs);
    timer.unref();
  }

  /** The dialer sends on the standby: it has given up the old connection, so do we. */
  private promote(peer: Peer, conn: Connection): void {
    peer.standby = undefined;
    const old = peer.conn;
    if (old) {
      const reason = `replaced by a newer connection from ${peer.nodeId}, which gave this one up`;
      this.counters.connectionsReplaced++;
      peer.detach(old, reason);
      old.close(reason);
    }
    peer.conn = conn;
    this.logger.log(`connected to ${peer.label} (${conn.direction}, in place of a connection the peer had given up)`);
  }

  private onFrame(conn: Connection, frame: Frame): void {
    if (this.admins.has(conn)) return this.incoming.deliverAdmin(conn, frame);
    const peer = conn.owner as Peer;
    if (peer.standby === conn && !this.admission.isCrossingLoser(conn)) this.promote(peer, conn);
    this.incoming.deliver(conn, peer, frame);
  }

  private onClosed(conn: Connection, info: CloseInfo): void {
    this.unattached.delete(conn);
    this.admins.delete(conn);
    this.counters.closed(conn, info);
    this.incoming.closed(conn);
    if (info.refused === 'self' && conn.direction === 'inbound') this.peers.rememberSelfDial(conn.remote);
    const peer = conn.owner as Peer | undefined;
    if (!peer || peer.mergedInto) return;
    if (peer.standby === conn) {
      peer.standby = undefined;
      return;
    }
    if (peer.connecting === conn) {
      peer.connecting = undefined;
      if (this.closed || peer.conn) return;
      if (info.refusedByPeer === 'self' && this.peers.takeSelfDial(conn.local)) {
        this.markSelf(peer);
        return;
      }
      if (info.refusedByPeer === 'duplicate' || this.admission.lostTieBreak(conn)) {
        // Their connection to us is the one to keep; wait for it rather than fail what is queued.
        this.redial.awaitInbound(peer);
        // It may be here already, under another entry (see settleAwaiting).
        if (this.establishments !== peer.dialEpoch) this.redial.settleAwaiting(peer);
        return;
      }
      this.dialFailed(peer, describeClose(info));
    } else if (peer.conn === conn) {
      peer.detach(conn, describeClose(info));
      if (this.closed) return;
      const standby = peer.standby;
      if (!standby && info.refusedByPeer === 'duplicate') {
        // The peer keeps another connection with us: docs/ARCHITECTURE.md, "Crossing dials".
        this.logger.debug(`${peer.label} keeps another connection with us (crossing dials); waiting for it`);
        this.redial.awaitInbound(peer);
        return;
      }
      if (standby) {
        // The peer gave this one up for the newer one it dialled (or dropped it as a duplicate of that one).
        peer.standby = undefined;
        peer.conn = standby;
        this.counters.connectionsReplaced++;
        this.logger.log(`connection to ${peer.label} closed (${info.message}); carrying on with the newer one`);
        return;
      }
      this.counters.connectionsLost++;
      this.logger.warn(`lost connection to ${peer.label}: ${info.message}`);
      this.redial.scheduleRetry(peer, describeClose(info));
    }
  }

  /** A dial of ours reached this very node: see docs/ARCHITECTURE.md, "A dial that reaches this node". */
  private markSelf(peer: Peer): void {
    peer.self = true;
    peer.clearTimers();
    peer.abandon(new NodeUnavailableError(peer.address, "it is this node's own address"));
    this.peers.rememberSelf(peer);
    this.handlers.selfAddress?.(peer.address);
  }

  private dialFailed(peer: Peer, reason: string): void {
    peer.failures++;
    // First, so that a send made from a failed call's callback meets the backoff instead of dialling at once.
    this.redial.scheduleRetry(peer, reason);
    this.counters.gossipDropped += peer.abandon(new NodeUnavailableError(peer.nodeId ?? peer.address, reason));
    if (this.redial.unused(peer)) this.redial.forgetIfIdle(peer); // now that nothing waits on it
  }

  // ---- introspection ---------------------------------------------------------------------------

  /** The advertised address of a node we have an established connection with (or had). */
  addressOf(nodeId: string): string | undefined {
    return this.peers.ofNode(nodeId)?.address;
  }

  isConnected(nodeId: string): boolean {
    return this.peers.ofNode(nodeId)?.conn !== undefined;
  }

  /**
   * The wire-protocol version of the established connection with `nodeId` (undefined without one):
   * what a sender checks before it sends a frame that only later versions read.
   */
  protocolOf(nodeId: string): number | undefined {
    return this.peers.ofNode(nodeId)?.conn?.protocol;
  }

  connections(): ConnectionInfo[] {
    return connectionsOf(this.peers);
  }

  /** Node ids with an established connection. */
  connectedNodeIds(): string[] {
    return this.connections().map((c) => c.nodeId);
  }

  stats(): TransportStats {
    return this.counters.stats(this.peers);
  }
}
