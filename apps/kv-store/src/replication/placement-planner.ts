/**
 * Where this node's copies belong after the ring changed. Pure: the ring is a function from key to its
 * replicas in ring order, as the partitioner computes it.
 */
export interface PlacementPlan {
  /** Peer → the keys this node and that peer both replicate: compared with it by anti-entropy. */
  shared: Map<string, string[]>;
  /** Keys this node holds but no longer replicates → the nodes that do: handed to them, then dropped. */
  orphans: Map<string, string[]>;
}

export function planPlacement(
  keys: Iterable<string>,
  self: string,
  replicasOf: (key: string) => readonly string[],
): PlacementPlan {
  const shared = new Map<string, string[]>();
  const orphans = new Map<string, string[]>();
  for (const key of keys) {
    const replicas = replicasOf(key);
    if (!replicas.includes(self)) {
      if (replicas.length > 0) orphans.set(key, [...replicas]);
      continue;
    }
    for (const replica of replicas) {
      if (replica === self) continue;
      let list = shared.get(replica);
      if (list === undefined) shared.set(replica, (list = []));
      list.push(key);
    }
  }
  return { shared, orphans };
}

/** Inverts key → targets into target → keys, for sending in batches. */
export function byTarget(keyTargets: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [key, targets] of keyTargets) {
    for (const target of targets) {
      let list = out.get(target);
      if (list === undefined) out.set(target, (list = []));
      list.push(key);
    }
  }
  return out;
}

/**
 * A decommission: every key this node holds goes to the nodes that replicate it once this node is
 * gone (`replicasWithout(key)`: the ring as if this node had left). Keys with no such node (nobody
 * else is on the ring) are `unplaced`: handing over cannot be complete while there are any.
 */
export function planDecommission(
  keys: Iterable<string>,
  self: string,
  replicasWithout: (key: string) => readonly string[],
): { byTarget: Map<string, string[]>; unplaced: string[] } {
  const targets = new Map<string, string[]>();
  const unplaced: string[] = [];
  for (const key of keys) {
    const replicas = replicasWithout(key).filter((id) => id !== self);
    if (replicas.length > 0) targets.set(key, replicas);
    else unplaced.push(key);
  }
  return { byTarget: byTarget(targets), unplaced };
}

/** Splits items into batches of at most `maxItems` and (after the first item of each) `maxBytes`. */
export function batches<T>(
  items: readonly T[],
  sizeOf: (item: T) => number,
  maxItems: number,
  maxBytes: number,
): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = sizeOf(item);
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
