import type { GossipOptions } from '../options/elastica-options.js';
import type { EndpointState } from './endpoint-state.js';
import { firstContactTimeoutMs } from './epidemic.js';
import type { LivenessOracle } from './gossip.types.js';
import type { MembershipEvents } from './membership-events.js';
import type { ForgetReason, MembershipTable } from './membership-table.js';
import type { VerdictLedger } from './verdict-ledger.js';

/** Suspicion (phi / threshold) from which a peer is probed directly every round: phi 1 at the default threshold 8. */
const SUSPICION_PROBE = 1 / 8;
/** Pings a suspect gets in a round at most, one more each round it stays silent. */
const MAX_PINGS_PER_ROUND = 3;

/** The peers as one round's judging leaves them. */
export interface Judged {
  live: EndpointState[];
  unreachable: EndpointState[];
  /** To ping: down, but third parties relay newer heartbeats of it (only its own word clears `down`); or unconfirmed. */
  probes: EndpointState[];
  /** Live, but phi has begun to wonder: asked directly before it convicts on late relayed news. */
  suspects: EndpointState[];
}

/**
 * This node's judgment of its peers: what it feeds the detector, when it convicts (phi, or the
 * first-contact timeout while on probation), whom it pings, and when it forgets the dead and the
 * departed. See docs/ARCHITECTURE.md, Gossip › Failure detection.
 */
export class PeerJudge {
  constructor(
    private readonly options: GossipOptions,
    private readonly liveness: LivenessOracle,
    private readonly table: MembershipTable,
    private readonly events: MembershipEvents,
    private readonly verdicts: VerdictLedger,
    /** Forgets an incarnation for good and refuses it until `until`. */
    private readonly drop: (endpoint: EndpointState, reason: ForgetReason, until: number) => void,
  ) {}

  firstContactMs(): number {
    return firstContactTimeoutMs(this.options.intervalMs, this.table.size);
  }

  /** Once a round: judges every peer of `self`, and sorts those still known. */
  round(self: EndpointState, nowMs: number): Judged {
    const judged: Judged = { live: [], unreachable: [], probes: [], suspects: [] };
    for (const endpoint of [...this.table.endpoints()]) {
      if (endpoint === self) continue;
      this.judge(endpoint, nowMs);
      if (!this.table.has(endpoint.id) || endpoint.announced === 'left') continue;
      if (!endpoint.down) {
        judged.live.push(endpoint);
        if (endpoint.unconfirmed) judged.probes.push(endpoint);
        // On probation too: the moment probation ends phi judges, and a silence it already finds too
        // long must have been probed.
        if (endpoint.feeds > 0 && (this.liveness.suspicion?.(endpoint.id, nowMs) ?? 0) >= SUSPICION_PROBE)
          judged.suspects.push(endpoint);
        else endpoint.probeRounds = 0;
      } else {
        judged.unreachable.push(endpoint);
        if (endpoint.newestHeartbeat > endpoint.heartbeatAtConviction) judged.probes.push(endpoint);
      }
    }
    return judged;
  }

  /** Where to send a ping this round, once per ping; the round's gossip `targets` hear from this node anyway. */
  pings(judged: Judged, targets: ReadonlySet<string>): string[] {
    const to: string[] = [];
    for (const endpoint of judged.probes) if (!targets.has(endpoint.address)) to.push(endpoint.address);
    for (const endpoint of judged.suspects) {
      const pings = Math.min(1 + endpoint.probeRounds++, MAX_PINGS_PER_ROUND) - (targets.has(endpoint.address) ? 1 : 0);
      for (let i = 0; i < pings; i++) to.push(endpoint.address);
    }
    return to;
  }

  /** A message from `endpoint` itself, stamped with its current `heartbeat`: direct evidence it is alive. */
  heardFrom(endpoint: EndpointState, heartbeat: number, nowMs: number): void {
    this.feed(endpoint, heartbeat, nowMs);
    endpoint.unconfirmedSince = undefined;
    if (endpoint.down && heartbeat > endpoint.heartbeatAtConviction) {
      const before = endpoint.status;
      endpoint.down = false;
      this.events.transition(endpoint, before, nowMs);
    }
  }

  feed(endpoint: EndpointState, heartbeat: number, nowMs: number, relayed = false): void {
    if (endpoint.feed(heartbeat, nowMs, relayed)) this.liveness.heartbeat(endpoint.id, endpoint.generation, nowMs);
  }

  convict(endpoint: EndpointState, nowMs: number): void {
    const before = endpoint.status;
    endpoint.convict(nowMs);
    this.events.transition(endpoint, before, nowMs);
  }

  private judge(endpoint: EndpointState, nowMs: number): void {
    if (endpoint.announced === 'left') {
      if (nowMs - endpoint.leftSince >= this.options.tombstoneTtlMs)
        this.drop(endpoint, 'left', nowMs + this.options.tombstoneTtlMs);
      return;
    }
    if (!endpoint.down && endpoint.unconfirmedSince !== undefined) {
      // A restart learned through others: its own word is overdue. Down as any run never heard from
      // directly, and no verdict: others who hear it are not to doubt it on this node's word.
      const overdue = nowMs - endpoint.unconfirmedSince >= this.firstContactMs();
      if (overdue && (this.liveness.mayConvict?.(nowMs) ?? true)) {
        const before = endpoint.status;
        endpoint.awaitDirectContact(nowMs);
        this.events.transition(endpoint, before, nowMs);
        return;
      }
    }
    if (!endpoint.down) {
      // A plain timeout on probation, phi after it; either way, silence heard while this node itself
      // stalled was its own (the local-pause guard).
      const silent = endpoint.onProbation
        ? nowMs - Math.max(endpoint.learnedAt, endpoint.lastNewsAt) >= this.firstContactMs() &&
          (this.liveness.mayConvict?.(nowMs) ?? true)
        : !this.liveness.isAvailable(endpoint.id, nowMs);
      if (silent) {
        this.convict(endpoint, nowMs);
        this.verdicts.publish(endpoint, nowMs);
      } else {
        this.verdicts.adopt(endpoint, nowMs);
      }
    } else if (nowMs - Math.max(endpoint.downSince, endpoint.lastNewsAt) >= this.options.downExpiryMs) {
      this.drop(endpoint, 'down', nowMs + this.options.downExpiryMs);
    }
  }
}
