import type { Simulation } from './simulation.js';

/** What the detectors are fed: the gaps between newer heartbeats learned, over every (observer, peer) pair. */
export interface HeartbeatGapStats {
  gaps: number;
  mean_s: number | null;
  sd_s: number | null;
  max_s: number | null;
  /** Share of gaps at least this many seconds long: the tail a detector must sit out without convicting. */
  tail: Record<string, number>;
}

const TAIL_AT_S = [3, 5, 7, 9, 11];

/**
 * Records the inter-arrival gaps of relayed heartbeats, observer by observer, from now on. They decide
 * how long a phi detector must wait: gossip delivers a peer's heartbeats in bursts, not once a second.
 */
export function watchHeartbeatGaps(sim: Simulation): () => HeartbeatGapStats {
  const last = new Map<string, number>();
  const tails = TAIL_AT_S.map(() => 0);
  let count = 0;
  let sum = 0;
  let sumSquares = 0;
  let max = 0;
  for (const node of sim.nodes) {
    const liveness = node.liveness;
    const feed = liveness.heartbeat.bind(liveness);
    liveness.heartbeat = (nodeId, generation, nowMs) => {
      const key = `${node.index}>${nodeId}>${generation}`;
      const before = last.get(key);
      if (before !== undefined) {
        const gap = (nowMs - before) / 1000;
        count++;
        sum += gap;
        sumSquares += gap * gap;
        if (gap > max) max = gap;
        for (let i = 0; i < TAIL_AT_S.length; i++) if (gap >= TAIL_AT_S[i]) tails[i]++;
      }
      last.set(key, nowMs);
      feed(nodeId, generation, nowMs);
    };
  }
  return () => {
    const mean = count > 0 ? sum / count : null;
    const sd = mean === null ? null : Math.sqrt(Math.max(0, sumSquares / count - mean * mean));
    const tail: Record<string, number> = {};
    TAIL_AT_S.forEach((s, i) => {
      tail[`ge_${s}s`] = count > 0 ? Number((tails[i] / count).toExponential(2)) : 0;
    });
    return { gaps: count, mean_s: mean, sd_s: sd, max_s: count > 0 ? max : null, tail };
  };
}
