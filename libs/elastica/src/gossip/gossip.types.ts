import type { AnnouncedStatus } from './wire/messages.js';

export type { AnnouncedStatus } from './wire/messages.js';

/** A member as one node sees it: its announced status, or `down` when this node's detector convicted it. */
export type MemberStatus = 'joining' | 'up' | 'down' | 'leaving' | 'left';

export interface Member {
  id: string;
  /** "host:port", the address peers dial. */
  address: string;
  status: MemberStatus;
  generation: number;
  heartbeat: number;
  /** The Elastica version it runs, as it gossips it (absent until its state arrives, or from an old node). */
  version?: string;
  /** The application version it runs (its `appVersion` option), if it has one. */
  appVersion?: string;
  /** Application state. Keys prefixed `elastica.` are reserved for the library (e.g. `elastica.tokens`). */
  state: Record<string, string>;
}

/** `forgotten`: removed by hand (GossipService.forget), here or on another node's word; it is no longer a member. */
export type MembershipEventType = 'joined' | 'up' | 'down' | 'restarted' | 'leaving' | 'left' | 'forgotten';

export interface MembershipEvent {
  type: MembershipEventType;
  nodeId: string;
}

export interface StateChange {
  nodeId: string;
  key: string;
  value: string;
  version: number;
}

/** Where gossip feeds heartbeats and asks who is alive: FailureDetectorService, or PeerLiveness in pure use. */
export interface LivenessOracle {
  heartbeat(nodeId: string, generation: number, nowMs: number): void;
  isAvailable(nodeId: string, nowMs: number): boolean;
  remove(nodeId: string): void;
  /**
   * Optional: how suspicious `nodeId` is, as a fraction of the conviction threshold (phi / threshold).
   * Past 1/8 (SUSPICION_PROBE: phi 1 at the default threshold 8), gossip asks the node directly
   * before the detector convicts it on relayed news alone.
   */
  suspicion?(nodeId: string, nowMs: number): number;
  /**
   * Optional: false while this node recovers from its own stall (the local-pause guard), when it must
   * convict nobody, by phi or by any other rule. `isAvailable` already answers true then.
   */
  mayConvict?(nowMs: number): boolean;
}

/** Callbacks of the core; all optional. Called synchronously while the core handles a tick or a message. */
export interface GossipListener {
  event?(event: MembershipEvent, nowMs: number): void;
  change?(change: StateChange, nowMs: number): void;
  /** Something an operator should read: refused input, seeds unreachable, a refuted rumour about this node. */
  notice?(level: 'log' | 'warn', message: string): void;
}

/** One entry of an arbitrary starting view (self-stabilization tests and the simulator). */
export interface ViewEntry {
  id: string;
  address: string;
  generation: number;
  heartbeat: number;
  status: AnnouncedStatus;
  /** Whether this node starts out believing the member is down. */
  down?: boolean;
  state?: Record<string, { value: string; version: number }>;
}

export const RESERVED_KEY_PREFIX = 'elastica.';
