import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Where the chaos suite leaves what a failure needs looked at: each node's log, and the timings. */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts', 'chaos');

/** Records how long something took (never asserted on) in test-artifacts/chaos/timings.jsonl. */
export function recordTiming(suite: string, name: string, ms: number, extra: Record<string, unknown> = {}): void {
  mkdirSync(ARTIFACTS, { recursive: true });
  appendFileSync(
    join(ARTIFACTS, 'timings.jsonl'),
    `${JSON.stringify({ at: new Date().toISOString(), suite, name, ms, ...extra })}\n`,
  );
}
