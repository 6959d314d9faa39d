import type { RpcOptions } from '../options/elastica-options.js';
import type { Connection } from './connection.js';
import { FrameType, type Frame } from './frames.js';
import { InboundCall } from './inbound-call.js';
import type { Peer } from './peer.js';

/** Where incoming traffic goes: gossip to the gossip channel's handler, calls and events to the Nest strategy. */
export interface IncomingHandlers {
  gossip(from: string, bytes: Uint8Array): void;
  request(call: InboundCall): void;
  event(sender: string, pattern: string, data: unknown): void;
  /** An address this node dialled reached this node itself (e.g. a seed spelled other than `advertise`). */
  selfAddress?(address: string): void;
  /** A request of an admin client (Hello.role): the admin handlers, or refused when there are none. */
  admin?(call: InboundCall): void;
}

/**
 * Frames that arrive on established connections, to where they go: gossip, events and the calls peers
 * make of this node to the handlers; answers to this node's calls to the peer that awaits them.
 */
export class IncomingTraffic {
  /** The calls peers made of this node, per connection, by request id. */
  private readonly served = new Map<Connection, Map<number, InboundCall>>();

  constructor(
    private readonly handlers: IncomingHandlers,
    private readonly rpc: RpcOptions,
  ) {}

  /** Calls peers made of this node that are not answered yet. */
  get inFlight(): number {
    let n = 0;
    for (const calls of this.served.values()) n += calls.size;
    return n;
  }

  /** `conn` may carry traffic from now on. */
  open(conn: Connection): void {
    this.served.set(conn, new Map());
  }

  /** `conn` closed: the calls served on it are cancelled (nobody is left to answer). */
  closed(conn: Connection): void {
    const calls = this.served.get(conn);
    if (!calls) return;
    this.served.delete(conn);
    for (const call of [...calls.values()]) call.cancel();
  }

  /** From an admin client: its requests (and their cancels) only; anything else is ignored. */
  deliverAdmin(conn: Connection, frame: Frame): void {
    if (frame.type === FrameType.Cancel) this.served.get(conn)?.get(frame.id)?.cancel();
    if (frame.type !== FrameType.Request) return;
    const calls = this.served.get(conn)!;
    const call = new InboundCall(frame.id, frame.pattern, frame.data, conn.remoteHello!.nodeId, conn, this.rpc, calls);
    calls.set(frame.id, call);
    if (this.handlers.admin) this.handlers.admin(call);
    else call.error({ message: 'this node serves no admin requests' });
  }

  deliver(conn: Connection, peer: Peer, frame: Frame): void {
    switch (frame.type) {
      case FrameType.Gossip:
        this.handlers.gossip(conn.remoteHello!.advertise, frame.bytes);
        return;
      case FrameType.Request: {
        const calls = this.served.get(conn)!;
        const call = new InboundCall(
          frame.id,
          frame.pattern,
          frame.data,
          conn.remoteHello!.nodeId,
          conn,
          this.rpc,
          calls,
        );
        if (frame.trace !== undefined) call.traceContext = frame.trace;
        calls.set(frame.id, call);
        this.handlers.request(call);
        return;
      }
      case FrameType.Event:
        this.handlers.event(conn.remoteHello!.nodeId, frame.pattern, frame.data);
        return;
      case FrameType.Cancel:
        this.served.get(conn)?.get(frame.id)?.cancel();
        return;
      case FrameType.Next:
        peer.awaitedCall(frame.id)?.next(frame.data);
        return;
      case FrameType.Reply:
        peer.endCall(frame.id)?.reply(frame.data);
        return;
      case FrameType.Complete:
        peer.endCall(frame.id)?.complete();
        return;
      case FrameType.Error:
        peer.endCall(frame.id)?.remoteError(frame.error);
        return;
      default:
        return;
    }
  }
}
