/** The statuses a node announces about itself; `down` is never announced, it is each observer's judgment. */
export type AnnouncedStatus = 'joining' | 'up' | 'leaving' | 'left';

/**
 * Every gossip message says who sent it (its incarnation and current heartbeat: direct evidence that
 * it is alive) and what the sender knows of the receiver (so a leaving node learns its news arrived).
 */
export interface MessageHeader {
  senderRef: number;
  senderHeartbeat: number;
  /** The receiver's incarnation as the sender knows it, 0 when unknown. */
  receiverRef: number;
  receiverVersion: number;
}

/** "I have everything of this incarnation up to `version`" (0: I know nothing of it, send it whole). */
export interface DigestEntry {
  ref: number;
  version: number;
}

/** One versioned entry of an owner: its heartbeat (carrying its announced status) or an application key. */
export type Item =
  { version: number; key: undefined; status: AnnouncedStatus } | { version: number; key: string; value: string };

/** Who an incarnation is, sent with a delta when the receiver may not know the ref. */
export interface Identity {
  id: string;
  address: string;
  generation: number;
}

/** Entries of one owner in increasing version order, with no gap from the version the receiver had. */
export interface Delta {
  ref: number;
  identity?: Identity;
  items: Item[];
}

export type GossipMessage =
  | { type: 'syn'; header: MessageHeader; complete: boolean; digests: DigestEntry[] }
  | { type: 'ack'; header: MessageHeader; requests: DigestEntry[]; deltas: Delta[] }
  | { type: 'ack2'; header: MessageHeader; deltas: Delta[] }
  | { type: 'ping'; header: MessageHeader }
  | { type: 'pong'; header: MessageHeader };
