import type { GossipOptions } from '../options/elastica-options.js';
import type { Admission } from './admission.js';
import type { EndpointState } from './endpoint-state.js';
import { firstContactTimeoutMs } from './epidemic.js';
import type { GossipStats } from './gossip-stats.js';
import type { LivenessOracle } from './gossip.types.js';
import type { MembershipTable } from './membership-table.js';
import { encodeVerdicts, MAX_VERDICTS, type Verdict } from './verdicts.js';

/** Suspicion (phi / threshold) of its own this node needs to adopt a verdict: phi 1 at the default threshold 8. */
const VERDICT_SUSPICION = 1 / 8;
/** A verdict (published or heard) lives this many first-contact timeouts: long enough to cross the cluster. */
const VERDICT_TTL_FIRST_CONTACTS = 3;

/**
 * This node's own verdicts, which it publishes, and those heard from others, which it may adopt:
 * see docs/ARCHITECTURE.md, Gossip › Failure detection (Verdicts).
 */
export class VerdictLedger {
  /** This node's own convictions, by the ref they convict; insertion order is age (oldest first). */
  private readonly own = new Map<number, { heartbeat: number; at: number }>();
  private ownChanged = false;
  /** Others' verdicts not yet adopted or outdated, by the ref they convict: the highest heartbeat heard. */
  private readonly heard = new Map<number, { heartbeat: number; until: number }>();
  /** Verdict values of the message being applied (one per owner at most), heard once it is applied whole. */
  private readonly queued: { owner: EndpointState; value: string }[] = [];

  constructor(
    private readonly options: GossipOptions,
    private readonly table: MembershipTable,
    private readonly liveness: LivenessOracle,
    private readonly admission: Admission,
    private readonly stats: GossipStats,
    /** Marks a peer down exactly as this node's own detector would. */
    private readonly convict: (endpoint: EndpointState, nowMs: number) => void,
  ) {}

  /** This node's own detector convicted `endpoint`: say so, with the newest heartbeat of it known here. */
  publish(endpoint: EndpointState, nowMs: number): void {
    this.own.delete(endpoint.ref);
    this.own.set(endpoint.ref, { heartbeat: endpoint.heartbeatAtConviction, at: nowMs });
    if (this.own.size > MAX_VERDICTS) this.own.delete(this.own.keys().next().value!);
    this.ownChanged = true;
  }

  /**
   * Once a round: withdraws and renews this node's verdicts (see the class). Returns the value to
   * publish (the newest verdicts that `fit` one message), or undefined when nothing changed.
   */
  maintain(nowMs: number, fits: (value: string) => boolean): string | undefined {
    if (this.own.size > 0) {
      const ttl = this.ttlMs();
      for (const [ref, verdict] of [...this.own]) {
        const endpoint = this.table.byRef(ref);
        if (!endpoint || !endpoint.down || endpoint.announced === 'left' || nowMs - verdict.at >= ttl) {
          this.own.delete(ref);
          this.ownChanged = true;
          continue;
        }
        const known = endpoint.newestHeartbeat;
        if (known > verdict.heartbeat && !endpoint.onProbation && !this.liveness.isAvailable(endpoint.id, nowMs)) {
          this.own.delete(ref);
          this.own.set(ref, { heartbeat: known, at: nowMs });
          this.ownChanged = true;
        }
      }
    }
    if (!this.ownChanged) return undefined;
    this.ownChanged = false;
    const list: Verdict[] = [];
    for (const [ref, { heartbeat }] of this.own) list.push({ ref, heartbeat });
    list.reverse();
    let value = encodeVerdicts(list);
    // A small MTU holds fewer: the newest are kept.
    while (list.length > 0 && !fits(value)) {
      list.pop();
      value = encodeVerdicts(list);
    }
    return value;
  }

  /** `owner` published `value` in the message being applied: judged against the whole message, once applied. */
  queue(owner: EndpointState, value: string): void {
    this.queued.push({ owner, value });
  }

  hearQueued(self: EndpointState, nowMs: number): void {
    if (this.queued.length > 0) this.hearAll(this.queued.splice(0), self, nowMs);
  }

  /** Hears the verdicts of owners still known here (a later delta may have replaced one). */
  hearAll(published: readonly { owner: EndpointState; value: string }[], self: EndpointState, nowMs: number): void {
    for (const { owner, value } of published) if (this.table.holds(owner)) this.hear(owner, value, self, nowMs);
  }

  /**
   * Adopts the verdict heard on `endpoint` when it still knows every heartbeat this node knows, and
   * this node's own detector is ready to agree. A verdict acts at most once.
   */
  adopt(endpoint: EndpointState, nowMs: number): void {
    const verdict = this.heard.get(endpoint.ref);
    if (!verdict) return;
    if (
      verdict.until <= nowMs ||
      verdict.heartbeat < endpoint.newestHeartbeat ||
      endpoint.down ||
      endpoint.announced === 'left'
    ) {
      this.heard.delete(endpoint.ref);
      return;
    }
    if (endpoint.onProbation || !(this.liveness.mayConvict?.(nowMs) ?? true)) return;
    if ((this.liveness.suspicion?.(endpoint.id, nowMs) ?? 1) < VERDICT_SUSPICION) return;
    this.heard.delete(endpoint.ref);
    this.stats.adoptedVerdicts++;
    this.convict(endpoint, nowMs);
  }

  /** Forgets heard verdicts that expired or name an incarnation no longer known. */
  purge(nowMs: number): void {
    for (const [ref, entry] of this.heard) if (entry.until <= nowMs || !this.table.hasRef(ref)) this.heard.delete(ref);
  }

  /** `owner` published `value` as its verdicts: keep those that know at least as much as this node, and act on them. */
  private hear(owner: EndpointState, value: string, self: EndpointState, nowMs: number): void {
    const verdicts = this.admission.verdicts(owner, value, nowMs);
    if (!verdicts) return;
    const until = nowMs + this.ttlMs();
    for (const verdict of verdicts) {
      const endpoint = this.table.byRef(verdict.ref);
      if (!endpoint || endpoint === self || endpoint === owner || endpoint.announced === 'left') continue;
      if (!this.admission.plausibleVerdict(owner, endpoint, verdict.heartbeat, nowMs)) continue;
      if (verdict.heartbeat < endpoint.newestHeartbeat) continue; // heard from since: outdated
      const held = this.heard.get(endpoint.ref);
      this.heard.set(endpoint.ref, { heartbeat: Math.max(verdict.heartbeat, held?.heartbeat ?? 0), until });
      if (!endpoint.down) this.adopt(endpoint, nowMs);
    }
  }

  private ttlMs(): number {
    return VERDICT_TTL_FIRST_CONTACTS * firstContactTimeoutMs(this.options.intervalMs, this.table.size);
  }
}
