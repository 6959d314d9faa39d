import type { EndpointState } from './endpoint-state.js';
import type { GossipListener, MembershipEventType, MemberStatus } from './gossip.types.js';

/** The membership events the listener hears, as this node sees its peers and itself. */
export class MembershipEvents {
  constructor(private readonly listener: GossipListener) {}

  /** Reports `endpoint`'s status if it changed since `before`; `joining` is no news (see `joined`). */
  transition(endpoint: EndpointState, before: MemberStatus, nowMs: number): void {
    const after = endpoint.status;
    if (after === before || after === 'joining') return;
    this.emit(after, endpoint.id, nowMs);
  }

  emit(type: MembershipEventType, nodeId: string, nowMs: number): void {
    this.listener.event?.({ type, nodeId }, nowMs);
  }
}
