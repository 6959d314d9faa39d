export interface GossipStats {
  messagesSent: number;
  bytesSent: number;
  messagesReceived: number;
  bytesReceived: number;
  malformed: number;
  refusedGenerations: number;
  /** Versions claimed for an incarnation beyond what its owner can have stamped (see Admission.plausibleVersion). */
  refusedVersions: number;
  refutations: number;
  /** Verdict values or entries refused: malformed, or naming a heartbeat its owner cannot have stamped. */
  refusedVerdicts: number;
  /** Peers marked down on another node's gossiped verdict rather than by this node's own detector. */
  adoptedVerdicts: number;
  /** Gossip messages longer than gossip.mtuBytes, dropped unread. */
  refusedOversized: number;
  /** Deltas that would have taken a node's state past gossip.maxStateBytes. */
  refusedState: number;
  /** New nodes refused because gossip.maxMembers were known already. */
  refusedMembers: number;
  /** Incarnations forgotten by hand (GossipService.forget), here or on another node's word. */
  forgotten: number;
  /** Forgotten values refused as malformed. */
  refusedForgotten: number;
}

export function emptyGossipStats(): GossipStats {
  return {
    messagesSent: 0,
    bytesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    malformed: 0,
    refusedGenerations: 0,
    refusedVersions: 0,
    refutations: 0,
    refusedVerdicts: 0,
    adoptedVerdicts: 0,
    refusedOversized: 0,
    refusedState: 0,
    refusedMembers: 0,
    forgotten: 0,
    refusedForgotten: 0,
  };
}
