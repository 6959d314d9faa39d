import type { Connection } from './connection.js';
import { arbitrate, crossed, type Meeting, type Verdict } from './crossing-dials.js';
import type { Hello, LocalIdentity, RefusalReason } from './handshake.js';
import type { Peer } from './peer.js';
import type { PeerDirectory } from './peer-directory.js';
import type { TransportCounters } from './transport-stats.js';

/** Why a connection in handshake is refused, for the REFUSE frame. */
export interface Refusal {
  reason: RefusalReason;
  message: string;
}

/**
 * Whether a connection in handshake is taken, and what it displaces: the arbiter's verdicts
 * (crossing-dials.ts) carried out on the peer entries, on the acceptor before it answers and once the
 * dialer is proven, and on the dialer once the acceptor is proven. Established connections are the
 * registry's; this only marks the new ones it lets through (a crossing's loser, a lost tie-break).
 */
export class Admission {
  /** Our dials whose peer's dial won the tie-break: their end is not a failure, theirs is awaited. */
  private readonly tieBreakLosers = new WeakSet<Connection>();
  /**
   * The losers of crossing dials, held as a standby only to read what the peer sent on them before it
   * saw the crossing: never written to, never promoted by a frame.
   */
  private readonly crossingLosers = new WeakSet<Connection>();

  constructor(
    private readonly local: LocalIdentity,
    private readonly peers: PeerDirectory,
    private readonly counters: TransportCounters,
    /** Inbound connections in handshake, not yet on a peer entry (the registry's). */
    private readonly unattached: Set<Connection>,
    private readonly isClosed: () => boolean,
  ) {}

  /** `conn` lost a crossing: read until the peer gives it up, never written to or promoted. */
  isCrossingLoser(conn: Connection): boolean {
    return this.crossingLosers.has(conn);
  }

  /** `conn`, a dial of ours, was dropped for the peer's dial to us. */
  lostTieBreak(conn: Connection): boolean {
    return this.tieBreakLosers.has(conn);
  }

  /**
   * Acceptor side, on the dialer's HELLO: decides only, and changes nothing until the dialer is proven
   * (see docs/ARCHITECTURE.md, "Strangers are bounded").
   */
  admit(conn: Connection, hello: Hello): Refusal | undefined {
    if (this.isClosed()) return { reason: 'duplicate', message: 'node shutting down' };
    // Answered all the same, as a standby (Hello.standby), which is how the dialer tells this from a crossing.
    if (this.peers.liveEntry(hello)) {
      if (conn.state === 'handshake') conn.held = true;
      return undefined;
    }
    for (const peer of this.peers.entriesOf(hello)) {
      const other = peer.connecting;
      if (!other || other === conn || other.direction !== 'outbound') continue;
      if (this.verdict('acceptor', 'dial', false, hello) === 'refuse-new') {
        return {
          reason: 'duplicate',
          message: `simultaneous dial: keeping the connection dialled by ${this.local.nodeId}`,
        };
      }
    }
    return undefined;
  }

  /** The dialer is proven: take the tie-break's decision (checked again: things may have moved since its HELLO). */
  commit(conn: Connection): Refusal | undefined {
    this.unattached.delete(conn);
    const hello = conn.remoteHello!;
    const refusal = this.admit(conn, hello);
    if (refusal) return refusal;
    const live = this.peers.liveEntry(hello);
    if (live) {
      switch (this.verdict('acceptor', 'connection', crossed(live.conn!, conn), hello)) {
        case 'replace-old':
          this.giveUp(live, `crossing dials: keeping the connection dialled by ${hello.nodeId}`);
          live.connecting = conn;
          break;
        case 'read-new':
          this.crossingLosers.add(conn);
          break;
        case 'standby': // established() holds it
          break;
      }
      conn.owner = live;
      return undefined;
    }
    const peer = this.peers.peerFor(hello.advertise);
    for (const entry of new Set([peer, ...this.peers.entriesOf(hello)])) {
      const existing = entry.conn;
      if (!existing || (entry !== peer && entry.nodeId !== hello.nodeId)) continue;
      // The peer restarted (another generation): the old connection is dead.
      const reason = `replaced by a new connection from ${hello.nodeId} (generation ${hello.generation})`;
      this.counters.connectionsReplaced++;
      entry.detach(existing, reason);
      existing.close(reason);
      // Its standby belonged to the old run too: were it to send, it would be promoted over the new one.
      const standby = entry.standby;
      entry.standby = undefined;
      standby?.close(reason);
    }
    const other = peer.connecting;
    // Ours loses (theirs was dialled by the smaller id), or it is an older attempt of theirs.
    if (other && other !== conn) this.tieBreakLosers.add(other);
    conn.owner = peer;
    peer.connecting = conn;
    if (other && other !== conn) other.close(`simultaneous dial: keeping the connection dialled by ${hello.nodeId}`);
    return undefined;
  }

  /**
   * Dialer side, the acceptor proven: the address dialled may turn out to be another name of a node we
   * hold a connection with.
   */
  reached(conn: Connection, hello: Hello): Refusal | undefined {
    const peer = conn.owner as Peer;
    const known = this.peers.liveEntry(hello);
    if (!known || known === peer) return undefined;
    if (peer.connecting === conn) peer.connecting = undefined;
    const verdict = this.verdict('dialer', 'connection', crossed(known.conn!, conn), hello);
    if (verdict === 'replace-old') {
      // Given up before the merge, so that what waited on either entry rides the new one, not the old.
      this.giveUp(known, `crossing dials: keeping the connection dialled by ${this.local.nodeId}`);
      this.peers.merge(peer, known);
      conn.owner = known;
      known.connecting = conn;
      return undefined;
    }
    this.peers.merge(peer, known);
    switch (verdict) {
      case 'read-new':
        this.crossingLosers.add(conn);
        conn.owner = known;
        return undefined;
      case 'refuse-new':
        return { reason: 'duplicate', message: `crossing dials: keeping the connection dialled by ${hello.nodeId}` };
      default: // 'alias'
        return {
          reason: 'duplicate',
          message: `already connected to ${hello.nodeId} (${known.address}); ${peer.address} is another address of it`,
        };
    }
  }

  /**
   * The established connection of `peer` loses a crossing: calls awaiting answers on it fail (their
   * answers would come on it), and the peer is told it is a duplicate, which it drops quietly, having
   * kept the other one too. What we sent on it before arrives (the peer reads until our refusal).
   */
  private giveUp(peer: Peer, reason: string): void {
    const old = peer.conn!;
    peer.detach(old, reason);
    old.refuse('duplicate', reason);
  }

  /** The arbiter's verdict on a new connection with the node `hello` names (see crossing-dials.ts). */
  private verdict(side: Meeting['side'], holding: Meeting['holding'], isCrossed: boolean, hello: Hello): Verdict {
    return arbitrate({
      side,
      holding,
      crossed: isCrossed,
      smallerId: this.local.nodeId < hello.nodeId ? 'ours' : 'theirs',
      secret: this.local.secret !== undefined,
    }).verdict;
  }
}
