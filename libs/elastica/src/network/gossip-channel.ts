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
  /**
   * Optional: the one handler told of each address that turned out to be this node's own (a seed
   * written `localhost:P` for a node advertising `127.0.0.1:P`), so gossip stops treating it as a seed.
   * Addresses found before the handler is set are told when it is.
   */
  onSelfAddress?(handler: (address: string) => void): void;
  /**
   * Optional: the node at `to` was judged down, so a connection to it may be stuck (across a partition
   * TCP keeps retransmitting with a backoff that grows towards two minutes, and the connection looks
   * open all the while). Drop it; the next message dials afresh, and redials back off at most
   * `rpc.reconnectMaxMs`, so a healed partition is noticed within that, not within TCP's backoff.
   */
  reset?(to: string, reason: string): void;
}
