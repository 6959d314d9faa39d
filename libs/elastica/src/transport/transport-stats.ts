import type { CloseInfo, Connection } from './connection.js';
import { REFUSAL_REASONS, type RefusalReason } from './handshake.js';
import type { PeerDirectory } from './peer-directory.js';

export interface TransportStats {
  /** Connections this node refused, by reason (each also logged once). */
  refused: Record<RefusalReason, number>;
  /** Connections peers refused, by the reason they gave. */
  refusedByPeer: Record<string, number>;
  connections: number;
  connectionsLost: number;
  /** Established connections closed because a newer one from the same node took over (restart, or it lost the old one). */
  connectionsReplaced: number;
  gossipDropped: number;
  /** Addresses found to be this node's own (dials that reached this node). */
  selfAddresses: string[];
  peers: {
    address: string;
    aliases: string[];
    nodeId?: string;
    connected: boolean;
    inFlight: number;
    bufferedBytes: number;
    failures: number;
  }[];
}

export interface ConnectionInfo {
  nodeId: string;
  address: string;
  generation: number;
  direction: 'outbound' | 'inbound';
  localPort: number;
  remotePort: number;
  /** The wire-protocol version negotiated at its handshake (the highest both ends speak). */
  protocol: number;
}

/** The transport's counters, and the one log line each refusal gets. */
export class TransportCounters {
  connectionsLost = 0;
  connectionsReplaced = 0;
  gossipDropped = 0;
  private readonly refused = Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>;
  private readonly refusedByPeer: Record<string, number> = {};

  constructor(private readonly logger: { warn(message: string): void; debug(message: string): void }) {}

  /** A client that failed the TLS handshake, which never became a Connection. */
  tlsRefused(reason: RefusalReason, remote: string, message: string): void {
    this.refused[reason]++;
    this.logger.warn(`refused connection with ${remote} (${reason}): ${message}`);
  }

  /** A connection ended: a refusal, either way, is counted and logged. */
  closed(conn: Connection, info: CloseInfo): void {
    const who = conn.remoteHello ? `${conn.remoteHello.nodeId} at ${conn.remote}` : conn.remote;
    if (info.refused) {
      this.refused[info.refused]++;
      if (info.refused === 'duplicate') this.logger.debug(`closed duplicate connection with ${who}: ${info.message}`);
      else this.logger.warn(`refused connection with ${who} (${info.refused}): ${info.message}`);
    } else if (info.refusedByPeer) {
      // Only reasons we know get a counter of their own: a peer must not grow this record at will.
      const key = (REFUSAL_REASONS as readonly string[]).includes(info.refusedByPeer) ? info.refusedByPeer : 'unknown';
      this.refusedByPeer[key] = (this.refusedByPeer[key] ?? 0) + 1;
      if (info.refusedByPeer === 'duplicate')
        this.logger.debug(`peer ${who} closed a duplicate connection: ${info.message}`);
      else this.logger.warn(`refused by ${who} (${info.refusedByPeer}): ${info.message}`);
    }
  }

  stats(peers: PeerDirectory): TransportStats {
    const entries = [...peers.entries()].map((p) => ({
      address: p.address,
      aliases: [...p.aliases],
      nodeId: p.nodeId,
      connected: p.conn !== undefined,
      inFlight: p.callsInFlight,
      bufferedBytes: p.conn ? p.conn.bufferedBytes : p.queuedBytes,
      failures: p.failures,
    }));
    return {
      refused: { ...this.refused },
      refusedByPeer: { ...this.refusedByPeer },
      connections: entries.filter((p) => p.connected).length,
      connectionsLost: this.connectionsLost,
      connectionsReplaced: this.connectionsReplaced,
      gossipDropped: this.gossipDropped,
      selfAddresses: peers.ownAddresses(),
      peers: entries,
    };
  }
}

/** The established connections, one per node. */
export function connectionsOf(peers: PeerDirectory): ConnectionInfo[] {
  const out: ConnectionInfo[] = [];
  for (const peer of peers.entries()) {
    if (!peer.conn) continue;
    const c = peer.conn;
    out.push({
      nodeId: c.remoteHello!.nodeId,
      address: c.remoteHello!.advertise,
      generation: c.remoteHello!.generation,
      direction: c.direction,
      localPort: c.socket.localPort ?? 0,
      remotePort: c.socket.remotePort ?? 0,
      protocol: c.protocol,
    });
  }
  return out;
}
