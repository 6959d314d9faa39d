import type { EndpointState } from './endpoint-state.js';
import type { GossipListener } from './gossip.types.js';
import type { MembershipTable } from './membership-table.js';
import type { SeedContact } from './seed-contact.js';

/** The safe first start of nodes whose seeds come from discovery: see docs/ARCHITECTURE.md, "A safe first start". */
export interface BootstrapOptions {
  /**
   * Discovered contacts (this node counts if discovery lists it) that must be heard from, none of them
   * in a cluster, before the founder founds one. Default 2 (Akka Cluster Bootstrap's).
   */
  requiredContacts: number;
  /** How long what was discovered and heard must stay the same before the founder founds. Default 3000. */
  stableMarginMs: number;
}

/** Statuses of a member that is in a cluster: hearing of one, a joining node joins (never founds). */
const IN_A_CLUSTER = new Set(['up', 'leaving']);

/**
 * Whether a joining node whose seeds came from discovery founds a new cluster now, in the spirit of
 * Akka Cluster Bootstrap: only when at least `requiredContacts` discovered contacts were heard from,
 * none of them (nor anyone else known) is in a cluster, nothing changed for `stableMarginMs`, and this
 * node holds the lowest discovered address. Everyone else joins the founder once they hear it is up.
 */
export class FirstStart {
  private seen = '';
  private stableSince = 0;

  constructor(
    readonly options: BootstrapOptions,
    private readonly listener: GossipListener = {},
  ) {}

  /** A joining node's round: whether it goes up now (joins a cluster it heard of, or founds one). */
  decide(seeds: SeedContact, self: EndpointState, table: MembershipTable, nowMs: number): boolean {
    if (FirstStart.clusterExists(self, table.endpoints())) return true;
    const found = this.shouldFound(seeds.discovered, (a) => seeds.isOwn(a), self, table.endpoints(), nowMs);
    if (found)
      this.listener.notice?.(
        'log',
        `founding a new cluster: ${seeds.discovered.length} contacts discovered, none in a cluster, this node has the lowest address`,
      );
    return found;
  }

  /** Whether any member other than `self` is in a cluster (so joining nodes join it rather than wait). */
  static clusterExists(self: EndpointState, members: Iterable<EndpointState>): boolean {
    for (const member of members) if (member !== self && !member.down && IN_A_CLUSTER.has(member.status)) return true;
    return false;
  }

  /**
   * `discovered`: the addresses discovery gave (own ones included); `isOwn`: whether an address is this
   * node's; `members`: every incarnation known. Pure: the same inputs at the same time give the same answer.
   */
  shouldFound(
    discovered: readonly string[],
    isOwn: (address: string) => boolean,
    self: EndpointState,
    members: Iterable<EndpointState>,
    nowMs: number,
  ): boolean {
    if (discovered.length === 0) return false;
    const joining = new Map<string, EndpointState>();
    for (const member of members) {
      if (member === self) continue;
      if (!member.down && IN_A_CLUSTER.has(member.status)) return false;
      if (!member.down && member.status === 'joining') joining.set(member.address, member);
    }
    const heard = discovered.filter((address) => isOwn(address) || joining.has(address)).sort();
    const state = `${[...discovered].sort().join(',')}|${heard.join(',')}`;
    if (state !== this.seen) {
      this.seen = state;
      this.stableSince = nowMs;
    }
    if (heard.length < this.options.requiredContacts) return false;
    if (nowMs - this.stableSince < this.options.stableMarginMs) return false;
    const founder = [...discovered].sort()[0];
    return isOwn(founder);
  }
}
