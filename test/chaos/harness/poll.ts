import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'chaos');

export interface PollOptions {
  /** Generous: the deadline only stops a test that would otherwise hang; it never measures anything. */
  deadlineMs: number;
  intervalMs?: number;
}

/**
 * Polls `probe` until it returns something other than undefined/false, and returns that with the
 * time it took. A probe that throws counts as "not yet" (a node may be stopped or restarting). At the
 * deadline it fails with what it was waiting for and the last thing it saw.
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: PollOptions,
): Promise<{ value: T; elapsedMs: number }> {
  const start = Date.now();
  let last: unknown = 'nothing yet';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return { value, elapsedMs: Date.now() - start };
      last = value;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() - start > opts.deadlineMs) {
      throw new Error(
        `${what}: not reached within ${opts.deadlineMs} ms; last observation: ${typeof last === 'string' ? last : JSON.stringify(last)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 250));
  }
}

/** Shared with the in-process suites (test/support/always.ts). */
export { always } from '../../support/always.js';

/** Records how long something took (never asserted on) in test-artifacts/chaos/timings.jsonl. */
export function recordTiming(suite: string, name: string, ms: number, extra: Record<string, unknown> = {}): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  appendFileSync(
    join(ARTIFACTS, 'timings.jsonl'),
    `${JSON.stringify({ at: new Date().toISOString(), suite, name, ms, ...extra })}\n`,
  );
}
