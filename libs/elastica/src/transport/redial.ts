import type { RpcOptions } from '../options/elastica-options.js';
import { backoffDelay } from './backoff.js';
import type { Peer } from './peer.js';
import type { PeerDirectory } from './peer-directory.js';

/** Peers untouched for this long are no longer redialled on their own; the next send dials again. */
const IDLE_MS = 60_000;
/** Early redials after a peer became reachable again: at most one sweep this often (see reachableAgain). */
const RECOVERY_SWEEP_MS = 5_000;

/** What the redialer needs of the registry. */
export interface RedialHooks {
  dial(peer: Peer): void;
  dialFailed(peer: Peer, reason: string): void;
  isClosed(): boolean;
  debug(message: string): void;
}

/**
 * When a peer is dialled again: after a failure (backoff with jitter, early once the network is
 * back), after a lost tie-break (wait for the peer's own dial), and when it is used no more (never,
 * and the entry is forgotten). See docs/ARCHITECTURE.md, "The wire" (Failures; The network came back).
 */
export class Redialer {
  /** Entries whose dial lost a tie-break and that wait for the peer's connection (see settleAwaiting). */
  private readonly awaiting = new Set<Peer>();
  private lastRecoverySweep = -Infinity;

  constructor(
    private readonly rpc: RpcOptions,
    private readonly random: () => number,
    private readonly peers: PeerDirectory,
    private readonly hooks: RedialHooks,
  ) {}

  /** Nobody sent to it for IDLE_MS: it is not worth a dial of its own. */
  unused(peer: Peer): boolean {
    return Date.now() - peer.lastUsed > IDLE_MS;
  }

  /**
   * Backoff with jitter; redial on our own only while the peer is in use. An unused entry is forgotten
   * instead (the next send makes a new one), so the entries of addresses gossip stopped naming (nodes
   * long gone, or invented by a hostile peer) do not pile up.
   */
  scheduleRetry(peer: Peer, reason: string): void {
    const delay = peer.redialEarly
      ? this.earlyRedialDelay()
      : backoffDelay(Math.max(1, peer.failures), this.rpc.reconnectMinMs, this.rpc.reconnectMaxMs, this.random());
    peer.redialEarly = false;
    peer.lastError = reason;
    peer.retryAt = Date.now() + delay;
    clearTimeout(peer.retryTimer);
    if (this.unused(peer)) {
      this.forgetIfIdle(peer);
      return;
    }
    this.armRetry(peer, delay);
  }

  /** See docs/ARCHITECTURE.md, "The network came back: redial now". */
  reachableAgain(reached: Peer): void {
    const now = Date.now();
    if (now - this.lastRecoverySweep < RECOVERY_SWEEP_MS) return;
    this.lastRecoverySweep = now;
    let redials = 0;
    for (const peer of this.peers.entries()) {
      if (peer === reached || peer.self || peer.conn) continue;
      const dialling = peer.connecting;
      if (dialling) {
        // A dial whose SYN left while the network was cut waits for the kernel's retransmission (1 s,
        // then 2 s, ...) or for our connect timeout. A dial already past TCP's handshake goes through
        // the link that works; it is left alone.
        if (dialling.direction === 'outbound' && dialling.socket.connecting) {
          peer.redialEarly = true;
          dialling.destroy('dialled again: the network is back');
          redials++;
        }
        continue;
      }
      if (!peer.retryTimer) continue;
      const delay = this.earlyRedialDelay();
      if (peer.retryAt - now <= delay) continue;
      peer.retryAt = now + delay;
      this.armRetry(peer, delay);
      redials++;
    }
    if (redials > 0)
      this.hooks.debug(`${reached.label} is reachable again: redialling ${redials} unreachable peer(s) early`);
  }

  /** After losing a tie-break we wait (at most a handshake timeout) for the peer's connection. */
  awaitInbound(peer: Peer): void {
    clearTimeout(peer.awaitInboundTimer);
    this.awaiting.add(peer);
    peer.awaitInboundTimer = setTimeout(() => {
      peer.awaitInboundTimer = undefined;
      this.awaiting.delete(peer);
      if (!peer.conn && !peer.connecting && !this.hooks.isClosed())
        this.hooks.dialFailed(peer, 'the connection dialled by the peer never completed');
    }, this.rpc.handshakeTimeoutMs);
    peer.awaitInboundTimer.unref();
  }

  /** `peer` is connected: whatever it waited for is here. */
  connected(peer: Peer): void {
    this.awaiting.delete(peer);
  }

  /** Something was established: the entries waiting for a peer's connection look whether it is theirs. */
  settleAllAwaiting(except: Peer): void {
    for (const waiting of this.awaiting) if (waiting !== except) this.settleAwaiting(waiting);
  }

  /**
   * An entry waiting for the peer's connection (see docs/ARCHITECTURE.md, "Simultaneous dial"), which
   * may have arrived under another entry: one whose node is known and connected elsewhere moves there;
   * one whose node we never learned is redialled at once, and its handshake tells whether it is an
   * alias. (A redial that meets the same tie-break again just waits again.)
   */
  settleAwaiting(peer: Peer): void {
    if (!peer.awaitInboundTimer || peer.conn || peer.connecting || peer.mergedInto) {
      this.awaiting.delete(peer);
      return;
    }
    if (peer.nodeId !== undefined) {
      const live = this.peers.ofNode(peer.nodeId);
      if (!live || live === peer || !live.conn) return;
      this.awaiting.delete(peer);
      this.peers.merge(peer, live);
      return;
    }
    this.awaiting.delete(peer);
    clearTimeout(peer.awaitInboundTimer);
    peer.awaitInboundTimer = undefined;
    this.hooks.dial(peer);
  }

  /** An entry nobody uses, or that a node left for another (it restarted elsewhere), goes once it holds nothing. */
  forgetIfIdle(peer: Peer): void {
    if (!peer.holdsNothing()) return;
    peer.clearTimers();
    this.peers.forget(peer);
    this.awaiting.delete(peer);
  }

  private earlyRedialDelay(): number {
    return this.rpc.reconnectMinMs * (1 + this.random());
  }

  private armRetry(peer: Peer, delay: number): void {
    clearTimeout(peer.retryTimer);
    peer.retryTimer = setTimeout(() => {
      peer.retryTimer = undefined;
      if (this.hooks.isClosed() || peer.conn || peer.connecting) return;
      if (!this.unused(peer)) this.hooks.dial(peer);
      else this.forgetIfIdle(peer);
    }, delay);
    peer.retryTimer.unref();
  }
}
