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
    handedOff: 0,
    orphansDropped: 0,
    tombstonesCollected: 0,
    refusedWrites: 0,
    badMessages: 0,
  };
}
