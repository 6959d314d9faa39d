import type { EndpointState } from './endpoint-state.js';
import type { GossipStats } from './gossip-stats.js';
import type { MembershipTable } from './membership-table.js';
import type { MessagePacker } from './message-packer.js';
import type { Reconciliation } from './reconciliation.js';
import { encodeMessage } from './wire/codec.js';
import type { DigestEntry, GossipMessage, MessageHeader } from './wire/messages.js';

export interface Outgoing {
  to: string;
  bytes: Uint8Array;
}

/**
 * What one node sends: every message carries the header (the sender is alive, and what it holds of the
 * receiver), is encoded, counted, and added to the caller's `out`. The exchange's three messages are
 * packed here from what reconciliation answers; see docs/ARCHITECTURE.md, Gossip › One exchange.
 */
export class Outbox {
  constructor(
    private readonly table: MembershipTable,
    private readonly self: () => EndpointState,
    private readonly packer: MessagePacker,
    private readonly reconciliation: Reconciliation,
    private readonly stats: GossipStats,
  ) {}

  syn(out: Outgoing[], to: string): void {
    this.send(out, to, this.packer.syn(this.header(to), this.table.endpoints()));
  }

  ack(out: Outgoing[], to: string, digests: DigestEntry[], complete: boolean, nowMs: number): void {
    const { requests, pushes } = this.reconciliation.answerDigest(to, digests, complete, nowMs);
    this.send(out, to, this.packer.ack(this.header(to), requests, pushes));
  }

  /** Sent only when there is something to send: the deltas the peer asked for. */
  ack2(out: Outgoing[], to: string, requests: DigestEntry[], nowMs: number): void {
    const ack2 = this.packer.ack2(this.header(to), this.reconciliation.answerRequests(to, requests, nowMs));
    if (ack2.deltas.length > 0) this.send(out, to, ack2);
  }

  ping(out: Outgoing[], to: string): void {
    this.send(out, to, { type: 'ping', header: this.header(to) });
  }

  pong(out: Outgoing[], to: string): void {
    this.send(out, to, { type: 'pong', header: this.header(to) });
  }

  private header(to: string): MessageHeader {
    const self = this.self();
    const receiver = this.table.byAddress(to);
    return {
      senderRef: self.ref,
      senderHeartbeat: self.heartbeat,
      receiverRef: receiver?.ref ?? 0,
      receiverVersion: receiver?.maxVersion ?? 0,
    };
  }

  private send(out: Outgoing[], to: string, message: GossipMessage): void {
    const bytes = encodeMessage(message);
    this.stats.messagesSent++;
    this.stats.bytesSent += bytes.length;
    out.push({ to, bytes });
  }
}
