/**
 * What gossip needs from the network, and nothing more: best-effort delivery of opaque, already-encoded
 * messages between advertised addresses. The TCP transport implements it over the one connection per
 * pair; tests and the simulator use in-memory implementations. Gossip never assumes which.
 */
export interface GossipChannel {
  /** Best-effort send to the node advertised at `to` ("host:port"). Never throws; a failed send is a lost message. */
  send(to: string, bytes: Uint8Array): void;
  /** The one handler for incoming gossip; `from` is the sender's advertised address ("host:port"). */
  onMessage(handler: (from: string, bytes: Uint8Array) => void): void;
}

export const GOSSIP_CHANNEL = Symbol('elastica:gossip-channel');
