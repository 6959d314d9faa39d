import type { Hello } from './handshake.js';
import { Peer } from './peer.js';

/** Other addresses one node is known by, at most (see docs/ARCHITECTURE.md, "The same run dialled again"). */
export const MAX_ALIASES = 8;
/** Inbound connections refused as `self` remembered until their other end (our own dial) hears of it. */
const MAX_SELF_DIALS = 16;
/** Entries of addresses found to be this node's own, kept at most (oldest forgotten first). */
const MAX_SELF_ENTRIES = 64;

/**
 * Where the registry finds a peer's entry: by the address gossip knows, by the other addresses it
 * turned out to answer at (aliases), by node id once a handshake told it; and which addresses are this
 * node's own. See docs/ARCHITECTURE.md, "The same run dialled again (aliases)".
 */
export class PeerDirectory {
  private readonly byAddress = new Map<string, Peer>();
  private readonly byNode = new Map<string, Peer>();
  /** `remote` of inbound connections refused as `self`: the `local` of one of our own dials. */
  private readonly selfDials = new Set<string>();
  private readonly selfAddresses: string[] = [];
  private readonly selfEntries: Peer[] = [];

  constructor(private readonly log: (message: string) => void) {}

  /** Addresses known, each alias counted apart. */
  get size(): number {
    return this.byAddress.size;
  }

  get(address: string): Peer | undefined {
    return this.byAddress.get(address);
  }

  /** The entry for `address`, made if there is none. */
  peerFor(address: string): Peer {
    let peer = this.byAddress.get(address);
    if (!peer) {
      peer = new Peer(address);
      this.byAddress.set(address, peer);
    }
    return peer;
  }

  /** Every entry once, however many addresses lead to it, oldest first. */
  entries(): Set<Peer> {
    return new Set(this.byAddress.values());
  }

  /** The entry of the node with an established connection (or that had one). */
  ofNode(nodeId: string): Peer | undefined {
    return this.byNode.get(nodeId);
  }

  /** `peer` is now the entry of `nodeId`; returns the one that was, if another. */
  bindNode(nodeId: string, peer: Peer): Peer | undefined {
    const previous = this.byNode.get(nodeId);
    this.byNode.set(nodeId, peer);
    return previous !== peer ? previous : undefined;
  }

  /** Our entries for the node a HELLO names: by node id, and by the address it advertises (often one entry). */
  entriesOf(hello: Hello): Peer[] {
    const byId = this.byNode.get(hello.nodeId);
    const byAddress = this.byAddress.get(hello.advertise);
    if (!byId) return byAddress ? [byAddress] : [];
    return byAddress && byAddress !== byId ? [byId, byAddress] : [byId];
  }

  /** The entry with an established connection to this very run (node id and generation) of the node, if any. */
  liveEntry(hello: Hello): Peer | undefined {
    return this.entriesOf(hello).find(
      (p) => p.conn !== undefined && p.nodeId === hello.nodeId && p.generation === hello.generation,
    );
  }

  /** Maps `address` to `peer`, remembering it among the peer's aliases (bounded: the oldest goes first). */
  alias(address: string, peer: Peer): void {
    this.byAddress.set(address, peer);
    if (address === peer.address || peer.aliases.includes(address)) return;
    peer.aliases.push(address);
    if (peer.aliases.length > MAX_ALIASES) {
      const oldest = peer.aliases.shift()!;
      if (this.byAddress.get(oldest) === peer) this.byAddress.delete(oldest);
    }
  }

  /**
   * `from` turned out to be another name of the node `into` is: its addresses now lead to `into`, and
   * what waited on `from` (queued frames, calls, connect() callers) goes on `into`'s connection.
   */
  merge(from: Peer, into: Peer): void {
    if (from === into) return;
    from.clearTimers();
    from.mergedInto = into;
    for (const address of [from.address, ...from.aliases])
      if (this.byAddress.get(address) === from) this.alias(address, into);
    from.handOverTo(into);
    this.log(`${from.address} is another address of ${into.label}`);
  }

  /** Drops every key that leads to `peer`. */
  forget(peer: Peer): void {
    for (const address of [peer.address, ...peer.aliases])
      if (this.byAddress.get(address) === peer) this.byAddress.delete(address);
    if (peer.nodeId !== undefined && this.byNode.get(peer.nodeId) === peer) this.byNode.delete(peer.nodeId);
  }

  /**
   * The `remote` of an inbound connection we refused as `self`: if it is the `local` of a dial of ours,
   * we dialled ourselves.
   */
  rememberSelfDial(remote: string): void {
    this.selfDials.add(remote);
    if (this.selfDials.size > MAX_SELF_DIALS) this.selfDials.delete(this.selfDials.values().next().value!);
  }

  /** Whether a dial of ours with this `local` end reached this node (see rememberSelfDial); asked once. */
  takeSelfDial(local: string): boolean {
    return this.selfDials.delete(local);
  }

  /**
   * `peer`'s address is this node's own. Its entry is kept so sends to it stop at once, but bounded:
   * gossip naming ever new spellings of this node (a node bound to 0.0.0.0 answers at every local
   * address) must not grow the table. A forgotten one is found again by its next dial.
   */
  rememberSelf(peer: Peer): void {
    if (this.selfAddresses.length < MAX_ALIASES) {
      this.selfAddresses.push(peer.address);
      this.log(
        `${peer.address} is this node's own address (a dial to it reached this node); it will not be dialled again`,
      );
    }
    this.selfEntries.push(peer);
    if (this.selfEntries.length > MAX_SELF_ENTRIES) {
      const oldest = this.selfEntries.shift()!;
      if (this.byAddress.get(oldest.address) === oldest) this.byAddress.delete(oldest.address);
    }
  }

  /** Addresses found to be this node's own (the first few). */
  ownAddresses(): string[] {
    return [...this.selfAddresses];
  }
}
