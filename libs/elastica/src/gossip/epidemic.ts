/** Rounds gossip takes to bring news to all of `nodes`: log3 N + ln ln N (N at least 3, where ln ln N > 0). */
export function epidemicRounds(nodes: number): number {
  const n = Math.max(3, nodes);
  return Math.ceil(Math.log(n) / Math.log(3) + Math.log(Math.log(n)));
}

/**
 * How long a node learned second-hand may go unheard before it is judged down (how phantoms die):
 * the spread time plus 5 rounds. See docs/ARCHITECTURE.md, Gossip › Failure detection.
 */
export function firstContactTimeoutMs(intervalMs: number, nodes: number): number {
  return intervalMs * (epidemicRounds(nodes) + 5);
}
