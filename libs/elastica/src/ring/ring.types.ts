/** A member's status as gossip reports it. Only `up` and `leaving` members own ranges. */
export type RingMemberStatus = 'joining' | 'up' | 'down' | 'leaving' | 'left';

/** What the pure ring needs to know about one member. */
export interface RingMember {
  id: string;
  /**
   * A `RingMemberStatus`, or one a later version added: typed `string` (which `RingMemberStatus |
   * string` is anyway) so that a peer's unknown status is accepted. Anything but `up` or `leaving` owns nothing.
   */
  status: string;
  /** Unsigned 32-bit tokens; the member owns (previous token, token] for each. */
  tokens: ArrayLike<number>;
  /** The id of a down node this member replaced: that node owns nothing any more, even if it returns. */
  replaces?: string;
}

/**
 * A token range (start, end]: start excluded, end included, wrapping past 2^32 - 1 to 0 when
 * start >= end. start === end is the whole ring (one token in the ring).
 */
export interface TokenRange {
  start: number;
  end: number;
}

/** A range that changed owner; `null` means nobody (the ring was or became empty). */
export interface MovedRange {
  range: TokenRange;
  from: string | null;
  to: string | null;
}

/** One change of the ring, as `PartitionerService.ring$` reports it. */
export interface RingChange {
  /** Counts this node's ring changes (local only: compare `checksum` across nodes). */
  version: number;
  /** Same membership and tokens give the same checksum on every node. */
  checksum: number;
  previousChecksum: number;
  /** Every range whose owner changed, adjacent pieces with the same move merged. */
  moved: MovedRange[];
  /** The owning node ids, sorted. */
  nodes: string[];
}
