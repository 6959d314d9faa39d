/**
 * Polls `probe` every `intervalMs` until it gives something other than undefined or false, and returns
 * that (0 and '' count: a probe may be waiting for a number to settle). A probe that throws counts as
 * "not yet": a node may still be starting, or be stopped or restarting. Past `timeoutMs` it fails with
 * what it was waiting for and the last thing the probe gave or threw (that error also as the cause, so
 * an assertion's diff is not lost). Tests wait with this, never sleep-then-assert; a deadline only stops
 * a test that would otherwise hang, and never measures anything.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let last: { gave: unknown } | { threw: unknown };
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = { gave: value };
    } catch (error) {
      last = { threw: error };
    }
    if (Date.now() > deadline) {
      const message = `${what}: not reached within ${timeoutMs} ms; last observation: ${observation(last)}`;
      throw new Error(message, 'threw' in last ? { cause: last.threw } : undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function observation(last: { gave: unknown } | { threw: unknown }): string {
  if ('gave' in last) return `gave ${String(last.gave)}`;
  // Not `instanceof Error`: what Node's own APIs throw (fetch, say) comes from outside Jest's realm.
  const { threw } = last;
  const message = typeof threw === 'object' && threw !== null && 'message' in threw ? threw.message : undefined;
  return `threw ${typeof message === 'string' ? message : JSON.stringify(threw)}`;
}
