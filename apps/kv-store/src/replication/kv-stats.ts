export interface KvStats {
  keys: number;
  bytes: number;
  writes: number;
  reads: number;
  quorumFailures: number;
  readRepairs: number;
  syncRounds: number;
  pulled: number;
  pushed: number;
  /**
   * Copies that reached this node by anti-entropy or handoff (pull replies and pushes), whether newer
   * than its own or not: the catch-up traffic of a restarted node, which should follow the writes it
   * missed rather than the data it holds.
   */
  syncEntriesIn: number;
  handedOff: number;
  orphansDropped: number;
  tombstonesCollected: number;
  refusedWrites: number;
  badMessages: number;
}

/** The counted part of `KvStats`: one object the node's parts share, each adding to its own counters. */
export type KvCounters = Omit<KvStats, 'keys' | 'bytes'>;

export function emptyKvCounters(): KvCounters {
  return {
    writes: 0,
    reads: 0,
    quorumFailures: 0,
    readRepairs: 0,
    syncRounds: 0,
    pulled: 0,
    pushed: 0,
    syncEntriesIn: 0,
    handedOff: 0,
    orphansDropped: 0,
    tombstonesCollected: 0,
    refusedWrites: 0,
    badMessages: 0,
  };
}
