import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { socketEndpoint } from '../common/host-port.js';
import { certificateNames, nodeIdNotNamed } from './certificate-names.js';
import { ElasticaError, FrameTooLargeError, MalformedFrameError } from '../errors/elastica-error.js';
import { FrameDecoder } from './frame-decoder.js';
import { decodeFrame, encodeAuth, encodeHello, encodeRefuse, FrameType, type Frame } from './frames.js';
import {
  checkHello,
  computeProof,
  HANDSHAKE_MAX_FRAME_BYTES,
  makeHello,
  newNonce,
  negotiateProtocol,
  parseHello,
  protocolMismatch,
  protocolsOf,
  remoteProtocols,
  verifyProof,
  type Hello,
  type LocalIdentity,
  type RefusalReason,
} from './handshake.js';

export type Direction = 'outbound' | 'inbound';

/** Why a connection ended: refused by us, refused by the peer, or simply lost. */
export interface CloseInfo {
  /** Set when this side refused the peer (counted, logged once). */
  refused?: RefusalReason;
  /** Set when the peer refused us, with its reason. */
  refusedByPeer?: string;
  message: string;
}

/** Why a connection ended, in a few words (a peer's backoff reason, a lost call's error). */
export function describeClose(info: CloseInfo): string {
  if (info.refusedByPeer) return `refused by peer (${info.refusedByPeer}): ${info.message}`;
  if (info.refused) return `refused (${info.refused}): ${info.message}`;
  return info.message;
}

export interface ConnectionEvents {
  /**
   * Acceptor side, on the dialer's HELLO once it passed the checks: the registry's tie-break decides.
   * It must not change anything yet: with a secret, the dialer has proved nothing at this point.
   */
  admit(conn: Connection, hello: Hello): { reason: RefusalReason; message: string } | undefined;
  /**
   * Acceptor side, once the dialer is proven (right after admit without a secret, after its AUTH with
   * one): the registry commits its decision (replacing an old connection, dropping its own dial), or
   * refuses if things changed in between.
   */
  commit(conn: Connection): { reason: RefusalReason; message: string } | undefined;
  /**
   * Dialer side, once the acceptor is proven (its HELLO checked, its proof verified with a secret) and
   * before this side commits (sends AUTH, or establishes): the registry may refuse, e.g. when the
   * address dialled turned out to be another name of a node it is already connected to.
   */
  reached(conn: Connection, hello: Hello): { reason: RefusalReason; message: string } | undefined;
  established(conn: Connection): void;
  frame(conn: Connection, frame: Frame): void;
  closed(conn: Connection, info: CloseInfo): void;
}

/**
 * Frames queued together leave in one write (one copy into one buffer) when they add up to at most
 * this much; a larger batch is written frame by frame under cork, not copied. Since a flush happens
 * as soon as FLUSH_AT_BYTES wait, a batch passes this only when a large frame joins a few small ones.
 */
const COALESCE_BYTES = 64 * 1024;
/**
 * Queued frames leave at once when this many bytes wait, without waiting for the end of the run: a
 * burst (64 calls answered by one read) then goes out in a few writes, and the peer works on the first
 * while this side produces the rest. Measured on loopback with 64 calls in flight: 1 KB 320k req/s,
 * 2 KB 355k, 4 KB 283k, whole bursts 264k (docs/benchmarks.md, rpc).
 */
const FLUSH_AT_BYTES = 2048;

/**
 * One TCP connection: framing, the handshake state machine (docs/ARCHITECTURE.md, "The handshake"),
 * coalesced writes. It knows nothing of other connections; the registry decides which one survives.
 */
export class Connection {
  state: 'handshake' | 'auth' | 'established' | 'closed' = 'handshake';
  /** The other side's HELLO, once it passed the checks. */
  remoteHello: Hello | undefined;
  /**
   * The wire-protocol version this connection uses, the highest both ends speak: known once the
   * peer's HELLO passed the checks (0 before). A frame added in a later version goes only to
   * connections at that version or above.
   */
  protocol = 0;
  /** Free slot for the registry (the peer entry this connection serves). */
  owner: unknown;
  /**
   * Whether the acceptor answered this connection as a standby (see Hello.standby): set by the registry
   * on an inbound one before the answer, read from the answer on an outbound one.
   */
  held = false;
  /** Set by the registry when it queues a frame of its own (not an answer); stamped into usedAt at the flush. */
  used = false;
  /** Date.now() of the last flush that carried a frame the registry queued; 0 if none did. */
  private usedAt = 0;
  private readonly decoder: FrameDecoder;
  private readonly nonce = newNonce();
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private handshakeTimer: NodeJS.Timeout | undefined;
  private remoteSeen: string | undefined;
  private localSeen: string | undefined;

  constructor(
    readonly socket: Socket,
    readonly direction: Direction,
    private readonly identity: LocalIdentity,
    private readonly maxFrameBytes: number,
    handshakeTimeoutMs: number,
    private readonly events: ConnectionEvents,
  ) {
    // Strangers get the small handshake limit; members get rpc.maxFrameBytes once established.
    this.decoder = new FrameDecoder(Math.min(HANDSHAKE_MAX_FRAME_BYTES, maxFrameBytes));
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    void this.remote;
    socket.once('connect', () => {
      void this.remote;
      void this.local;
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.finish({ message: `socket error: ${error.message}` }));
    socket.on('close', () => this.finish({ message: 'connection closed by peer' }));
    this.handshakeTimer = setTimeout(
      () => this.refuse('handshake_timeout', `no completed handshake within ${handshakeTimeoutMs} ms`),
      handshakeTimeoutMs,
    );
    this.handshakeTimer.unref();
    if (direction === 'outbound') this.write(encodeHello(this.helloVersion, makeHello(identity, this.nonce)));
  }

  /** A HELLO travels in this side's lowest version, the one every peer it can talk to reads. */
  private get helloVersion(): number {
    return protocolsOf(this.identity).min;
  }

  /** The peer's address and port; kept once known, since a destroyed socket no longer tells it. */
  get remote(): string {
    if (this.remoteSeen === undefined && this.socket.remoteAddress !== undefined) {
      this.remoteSeen = socketEndpoint(this.socket.remoteAddress, this.socket.remotePort);
    }
    return this.remoteSeen ?? 'an unconnected socket';
  }

  /**
   * This side's address and port, kept once known. Told by the kernel, not the peer: a connection whose
   * `local` equals another's `remote` is the same socket seen from both ends (a node that dialled itself).
   */
  get local(): string {
    if (this.localSeen === undefined && this.socket.localAddress !== undefined) {
      this.localSeen = socketEndpoint(this.socket.localAddress, this.socket.localPort);
    }
    return this.localSeen ?? 'an unconnected socket';
  }

  /** When the registry last sent something on this connection (now, if a frame of its own is still pending). */
  get lastUsedAt(): number {
    return this.used ? Date.now() : this.usedAt;
  }

  /** Bytes accepted for writing and not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.pendingBytes + this.socket.writableLength;
  }

  write(frame: Buffer): void {
    if (this.state === 'closed') return;
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    if (this.pendingBytes >= FLUSH_AT_BYTES) {
      this.flush();
      return;
    }
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // A microtask, not setImmediate: the write leaves at the end of this run instead of after the
      // event loop's next poll, which kept both ends of a busy connection waiting on each other.
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.used) {
      this.used = false;
      this.usedAt = Date.now();
    }
    if (this.state === 'closed' || this.pending.length === 0) return;
    const frames = this.pending;
    const bytes = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (frames.length === 1) this.socket.write(frames[0]);
    else if (bytes <= COALESCE_BYTES) this.socket.write(Buffer.concat(frames, bytes));
    else {
      this.socket.cork();
      for (const frame of frames) this.socket.write(frame);
      this.socket.uncork();
    }
  }

  /** Refuses the peer: tells it why, then closes. */
  refuse(reason: RefusalReason, message: string): void {
    if (this.state === 'closed') return;
    this.flush();
    this.socket.end(encodeRefuse(reason, message));
    // A peer that does not close its side must not hold the socket open.
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.finish({ refused: reason, message });
  }

  /** Closes without a refusal (shutdown, replaced, lost). */
  close(message: string): void {
    if (this.state === 'closed') return;
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.finish({ message });
  }

  destroy(message: string): void {
    if (this.state === 'closed') return;
    this.socket.destroy();
    this.finish({ message });
  }

  /** Ends the connection for a reason found below the frames (TLS): nothing can be said to the peer. */
  abort(info: CloseInfo): void {
    if (this.state === 'closed') return;
    this.socket.destroy();
    this.finish(info);
  }

  private finish(info: CloseInfo): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.handshakeTimer);
    this.decoder.discard();
    this.pending = [];
    this.pendingBytes = 0;
    this.events.closed(this, info);
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    try {
      this.decoder.push(chunk, (body) => {
        if (this.state !== 'closed') this.onFrame(decodeFrame(body));
      });
    } catch (error) {
      if (error instanceof FrameTooLargeError) {
        this.refuse(
          'oversized',
          this.state === 'established'
            ? error.message
            : `frame of ${error.bytes} bytes before the handshake completed (at most ${error.maxFrameBytes})`,
        );
      } else if (error instanceof ElasticaError) this.refuse('bad_frame', error.message);
      // Whatever a peer sends, it costs it its connection, never the node: this runs in a socket
      // callback, where a throw would be an uncaught exception.
      else this.refuse('bad_frame', `could not handle a frame: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  private onFrame(frame: Frame): void {
    if (this.state === 'established') {
      if (frame.type === FrameType.Hello || frame.type === FrameType.Auth) {
        throw new MalformedFrameError('handshake frame after the handshake');
      }
      if (frame.type === FrameType.Refuse) {
        // The peer is done with us; our side of the socket must not linger until it closes its own.
        void this.local;
        this.socket.destroy();
        return this.finish({ refusedByPeer: frame.reason, message: frame.message });
      }
      return this.events.frame(this, frame);
    }
    if (frame.type === FrameType.Refuse) {
      void this.local; // the registry compares it once the socket is gone (a refused self-dial)
      this.socket.destroy();
      return this.finish({ refusedByPeer: frame.reason, message: frame.message });
    }
    if (this.state === 'handshake' && frame.type === FrameType.Hello) return this.onHello(frame.version, frame.body);
    if (this.state === 'auth' && frame.type === FrameType.Auth) return this.onAuth(frame.proof);
    throw new MalformedFrameError(`frame type ${frame.type} before the handshake completed`);
  }

  private onHello(version: number, body: Buffer): void {
    // A HELLO of a version above all of ours may have another shape: refuse it before parsing the rest.
    const ours = protocolsOf(this.identity);
    if (version > ours.max || version < 1) {
      let claimed: Hello | undefined;
      try {
        claimed = parseHello(body); // for the message only: the range it names, when it is readable
      } catch {
        claimed = undefined;
      }
      return this.refuse('protocol', protocolMismatch(ours, remoteProtocols(version, claimed)));
    }
    const hello = parseHello(body);
    const problem = checkHello(this.identity, version, hello);
    if (problem) return this.refuse(problem.reason, problem.message);
    this.protocol = negotiateProtocol(ours, remoteProtocols(version, hello))!;
    if (this.identity.nodeIdInCertificate) {
      const certificate = (this.socket as TLSSocket).getPeerCertificate?.();
      const unnamed = nodeIdNotNamed(certificateNames(certificate?.subject, certificate?.subjectaltname), hello.nodeId);
      if (unnamed)
        return this.refuse(
          'tls',
          `the certificate of ${this.remote} ${unnamed} its HELLO claims (tls.nodeIdInCertificate)`,
        );
    }
    this.remoteHello = hello;
    const secret = this.identity.secret;
    if (this.direction === 'inbound') {
      const decision = this.events.admit(this, hello);
      if (decision) return this.refuse(decision.reason, decision.message);
      const proof =
        secret === undefined
          ? undefined
          : computeProof(secret, 'acceptor', this.identity.nodeId, hello.nodeId, hello.nonce, this.nonce);
      if (secret !== undefined) {
        this.write(encodeHello(this.helloVersion, makeHello(this.identity, this.nonce, proof, this.held)));
        this.state = 'auth';
        return;
      }
      const late = this.events.commit(this);
      if (late) return this.refuse(late.reason, late.message);
      this.write(encodeHello(this.helloVersion, makeHello(this.identity, this.nonce, proof, this.held)));
      return this.establish();
    }
    if (secret !== undefined) {
      const expected = computeProof(secret, 'acceptor', hello.nodeId, this.identity.nodeId, this.nonce, hello.nonce);
      if (!verifyProof(expected, hello.proof))
        return this.refuse('secret', 'the peer could not prove it holds the cluster secret');
    }
    // An older acceptor says nothing: taken as a standby, so it never counts as a crossing dial.
    this.held = hello.standby !== false;
    // Before AUTH: with a secret, an acceptor refused here never commits the connection at all.
    const decision = this.events.reached(this, hello);
    if (decision) return this.refuse(decision.reason, decision.message);
    if (secret !== undefined) {
      this.write(
        encodeAuth(computeProof(secret, 'dialer', this.identity.nodeId, hello.nodeId, hello.nonce, this.nonce)),
      );
    }
    this.establish();
  }

  private onAuth(proof: Buffer): void {
    const expected = computeProof(
      this.identity.secret!,
      'dialer',
      this.remoteHello!.nodeId,
      this.identity.nodeId,
      this.nonce,
      this.remoteHello!.nonce,
    );
    if (!verifyProof(expected, proof))
      return this.refuse('secret', 'the peer could not prove it holds the cluster secret');
    const late = this.events.commit(this);
    if (late) return this.refuse(late.reason, late.message);
    this.establish();
  }

  private establish(): void {
    clearTimeout(this.handshakeTimer);
    this.state = 'established';
    this.decoder.limit = this.maxFrameBytes;
    this.events.established(this);
  }
}
