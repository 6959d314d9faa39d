import type { Admission } from './admission.js';
import type { MembershipTable } from './membership-table.js';
import type { DeltaCandidate } from './message-packer.js';
import type { OwnIncarnation } from './own-incarnation.js';
import type { DigestEntry } from './wire/messages.js';

/**
 * Scuttlebutt's comparison of what a peer has with what this node has: which deltas to push and which
 * to request (docs/ARCHITECTURE.md, Gossip › One exchange). A peer claiming more of this node than it
 * has makes it refute the claim.
 */
export class Reconciliation {
  constructor(
    private readonly table: MembershipTable,
    private readonly admission: Admission,
    private readonly own: OwnIncarnation,
  ) {}

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
