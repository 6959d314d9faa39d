/**
 * Reconnect delay after `failures` consecutive failures: exponential from `minMs`, capped at `maxMs`,
 * with "equal jitter" (half fixed, half random) so peers that lost the same node do not redial in step
 * while the delay still grows. Pure: the random number in [0, 1) is an input.
 */
export function backoffDelay(failures: number, minMs: number, maxMs: number, random: number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return ceiling / 2 + random * (ceiling / 2);
}
