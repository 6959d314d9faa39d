// The gossiped value of a node's verdicts: see docs/ARCHITECTURE.md, Gossip › Failure detection (Verdicts).

/** Internal gossip key (not user state, no change events): the owner's own recent verdicts. */
export const VERDICTS_KEY = 'elastica.verdicts';
/** Verdicts a node keeps published at most (newest first); older ones are withdrawn. */
export const MAX_VERDICTS = 64;
/** Longest verdicts value: MAX_VERDICTS entries of at most 10 + 1 + 11 characters, and the spaces between. */
export const MAX_VERDICTS_LENGTH = MAX_VERDICTS * 23 - 1;

export interface Verdict {
  /** The convicted incarnation (its 48-bit ref names id and generation). */
  ref: number;
  /** The newest heartbeat of it the convicting node knew. */
  heartbeat: number;
}

const MAX_REF = 2 ** 48;
const ENTRY = /^([0-9a-z]{1,10}):([0-9a-z]{1,11})$/;

/** "ref:heartbeat" pairs in base 36, space separated, newest first ("" for none): ~18 bytes a verdict. */
export function encodeVerdicts(verdicts: readonly Verdict[]): string {
  return verdicts.map((v) => `${v.ref.toString(36)}:${v.heartbeat.toString(36)}`).join(' ');
}

/** Parses a verdicts value; throws a RangeError naming the problem when it is not one this node writes. */
export function decodeVerdicts(value: string): Verdict[] {
  if (value === '') return [];
  const parts = value.split(' ');
  if (parts.length > MAX_VERDICTS) throw new RangeError(`${parts.length} verdicts, at most ${MAX_VERDICTS} allowed`);
  const verdicts: Verdict[] = [];
  for (const part of parts) {
    const match = ENTRY.exec(part);
    if (!match) throw new RangeError(`malformed verdict ${JSON.stringify(part.slice(0, 40))}`);
    const ref = parseInt(match[1], 36);
    const heartbeat = parseInt(match[2], 36);
    if (ref <= 0 || ref >= MAX_REF) throw new RangeError(`verdict names ref ${ref}, outside 1..2^48`);
    // 0: convicted before any heartbeat of it was known (a phantom from an arbitrary view).
    if (!Number.isSafeInteger(heartbeat)) throw new RangeError(`verdict heartbeat ${match[2]} is not a safe integer`);
    verdicts.push({ ref, heartbeat });
  }
  return verdicts;
}
