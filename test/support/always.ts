/**
 * Checks `probe` `samples` times, `intervalMs` apart, and fails at the first sample where it does not
 * hold (a probe that throws fails too): "this stays true while the fault lasts". The opposite of a
 * poll that waits for something to become true, which would swallow a violation that came and went.
 */
export async function always(
  what: string,
  opts: { samples: number; intervalMs: number },
  probe: () => Promise<true | string> | true | string,
): Promise<void> {
  for (let k = 0; k < opts.samples; k++) {
    let verdict: true | string;
    try {
      verdict = await probe();
    } catch (error) {
      verdict = (error as Error).message;
    }
    if (verdict !== true) throw new Error(`${what}: broken at sample ${k + 1} of ${opts.samples}: ${verdict}`);
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs));
  }
}
