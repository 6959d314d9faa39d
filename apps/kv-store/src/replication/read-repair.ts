import { compareTimestamps } from '../store/hlc.js';
import { latest, type Versioned } from '../store/versioned.js';

export interface ReadResolution {
  /** The latest version any replica returned (a tombstone means deleted); undefined: no replica has the key. */
  latest: Versioned | undefined;
  /** Replicas that answered with an older version or none at all: they get `latest` written back. */
  stale: string[];
}

/** Resolves a read from the replicas' answers (null: that replica has no copy) and names the stale ones. */
export function resolveRead(answers: ReadonlyMap<string, Versioned | null>): ReadResolution {
  let newest: Versioned | undefined;
  for (const answer of answers.values()) newest = latest(newest, answer ?? undefined);
  if (newest === undefined) return { latest: undefined, stale: [] };
  const stale: string[] = [];
  for (const [replica, answer] of answers) {
    if (answer === null || compareTimestamps(answer.ts, newest.ts) < 0) stale.push(replica);
  }
  return { latest: newest, stale };
}

/**
 * Whether the answers so far are enough to answer a read: they all carry the same version. Absence
 * alone is not trusted, because while ranges move a new replica may not have received a key yet, so
 * a read that sees only "none" waits for every replica before it concludes the key is absent.
 */
export function answersAgree(answers: ReadonlyMap<string, Versioned | null>): boolean {
  let first: Versioned | undefined;
  for (const answer of answers.values()) {
    if (answer === null) return false;
    if (first === undefined) first = answer;
    else if (compareTimestamps(first.ts, answer.ts) !== 0) return false;
  }
  return first !== undefined;
}
