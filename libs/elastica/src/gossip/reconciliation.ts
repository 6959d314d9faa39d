import type { GossipOptions } from '../options/elastica-options.js';
import type { Admission } from './admission.js';
import type { EndpointState } from './endpoint-state.js';
import type { MembershipTable } from './membership-table.js';
import type { DeltaCandidate } from './message-packer.js';
import type { OwnIncarnation } from './own-incarnation.js';
import type { Delta, DigestEntry, Identity } from './wire/messages.js';

/** A delta to apply: news of a known incarnation, or a new one (a node first heard of, or its new run). */
export type Admitted =
  { endpoint: EndpointState } | { identity: Identity; replaces: EndpointState | undefined; firstHand: boolean };

/**
 * Scuttlebutt's comparison of what a peer has with what this node has: which deltas to push, which to
 * request, and which of those that arrive to apply (docs/ARCHITECTURE.md, Gossip › One exchange). A
 * peer claiming more of this node than it has makes it refute the claim.
 */
export class Reconciliation {
  constructor(
    private readonly options: GossipOptions,
    private readonly table: MembershipTable,
    private readonly admission: Admission,
    private readonly own: OwnIncarnation,
    /** At gossip.maxMembers: forgets a dead node to make room for a new one, or says there is none. */
    private readonly makeRoom: (nowMs: number) => boolean,
  ) {}

  /**
   * Whether to apply `delta`, which `senderRef`'s message carried (a sender's delta of itself is
   * first-hand news): undefined when refused, outdated or about this node (then refuted if ahead of it).
   */
  admit(delta: Delta, senderRef: number, nowMs: number): Admitted | undefined {
    const last = delta.items.length > 0 ? delta.items[delta.items.length - 1].version : 0;
    const self = this.own.current;
    if (delta.identity) {
      const { id, generation } = delta.identity;
      // Checked first, for this node's own identity too: see docs/ARCHITECTURE.md, Gossip › Self-stabilization.
      if (!this.admission.plausibleGeneration(id, generation, nowMs)) return undefined;
      if (!this.admission.plausibleVersion(id, generation, last, nowMs)) return undefined;
      if (id === self.id) {
        if (generation > self.generation)
          this.own.refute(
            generation,
            nowMs,
            `a peer holds generation ${generation} of it, newer than its own ${self.generation}`,
          );
        else if (generation === self.generation && last > self.maxVersion)
          this.own.refuteVersion('a peer holds', last, nowMs);
        return undefined;
      }
      if (delta.items.length === 0 || this.table.isForgotten(delta.ref, nowMs)) return undefined;
      const existing = this.table.get(id);
      if (existing && existing.generation > generation) return undefined; // an older run: outdated news
      if (!existing && this.table.size >= this.options.maxMembers && !this.makeRoom(nowMs)) {
        this.admission.refuseMember(id, this.table.size, nowMs);
        return undefined;
      }
      const current = existing?.generation === generation ? existing : undefined;
      if (!this.admission.stateFits(id, current, delta.items, nowMs)) return undefined;
      if (current) return { endpoint: current };
      return { identity: delta.identity, replaces: existing, firstHand: delta.ref === senderRef };
    }
    const endpoint = this.table.byRef(delta.ref);
    if (!endpoint) return undefined; // an incarnation we do not know: only a delta with its identity may introduce it
    if (!this.admission.plausibleVersion(endpoint.id, endpoint.generation, last, nowMs)) return undefined;
    if (endpoint === self) {
      if (last > self.maxVersion) this.own.refuteVersion('a peer sent', last, nowMs);
      return undefined;
    }
    if (!this.admission.stateFits(endpoint.id, endpoint, delta.items, nowMs)) return undefined;
    return { endpoint };
  }

  /** The answer to the digest `from` sent: requests for what it has newer, deltas it lacks. */
  answerDigest(
    from: string,
    digests: readonly DigestEntry[],
    complete: boolean,
    nowMs: number,
  ): { requests: DigestEntry[]; pushes: DeltaCandidate[] } {
    const requests: DigestEntry[] = [];
    const pushes: DeltaCandidate[] = [];
    const seen = complete ? new Set<number>() : undefined;
    for (const entry of digests) {
      seen?.add(entry.ref);
      const endpoint = this.table.byRef(entry.ref);
      if (
        endpoint &&
        entry.version > endpoint.maxVersion &&
        !this.admission.plausibleVersion(endpoint.id, endpoint.generation, entry.version, nowMs)
      )
        continue;
      if (endpoint === this.own.current && entry.version > endpoint.maxVersion) {
        this.own.refuteVersion(`${from} claims`, entry.version, nowMs);
        continue;
      }
      if (endpoint) {
        if (endpoint.maxVersion > entry.version) pushes.push({ endpoint, after: entry.version });
        else if (endpoint.maxVersion < entry.version) requests.push({ ref: entry.ref, version: endpoint.maxVersion });
      } else if (!this.table.isForgotten(entry.ref, nowMs)) {
        requests.push({ ref: entry.ref, version: 0 });
      }
    }
    // The peer listed everything it knows: whatever is missing from its digest, it has never heard of.
    if (seen)
      for (const endpoint of this.table.endpoints()) if (!seen.has(endpoint.ref)) pushes.push({ endpoint, after: 0 });
    return { requests, pushes };
  }

  /** The deltas `from` requested that this node has. */
  answerRequests(from: string, requests: readonly DigestEntry[], nowMs: number): DeltaCandidate[] {
    const wanted: DeltaCandidate[] = [];
    for (const request of requests) {
      const endpoint = this.table.byRef(request.ref);
      if (!endpoint) continue;
      if (endpoint === this.own.current && request.version > endpoint.maxVersion) {
        if (!this.admission.plausibleVersion(endpoint.id, endpoint.generation, request.version, nowMs)) continue;
        this.own.refuteVersion(`${from} claims`, request.version, nowMs);
        continue;
      }
      if (endpoint.maxVersion > request.version) wanted.push({ endpoint, after: request.version });
    }
    return wanted;
  }
}
