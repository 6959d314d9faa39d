import { fnv1a } from './hash.js';
import type { Versioned } from './versioned.js';

/** A stored record that does not read back as written: the node refuses to start on it (see data-dir.ts). */
export class CorruptDataError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'CorruptDataError';
  }
}

const HEADER_BYTES = 4;

/**
 * A version as stored on disk: a 32-bit checksum of the key and the body, then the body as JSON
 * (`[wall, logical, node, value]`). LMDB checks its own pages' structure but not what is in them; the
 * checksum lets start-up tell a damaged value from a real one (and a record moved under another key).
 */
export function encodeRecord(key: string, v: Versioned): Buffer {
  const body = JSON.stringify([v.ts.wall, v.ts.logical, v.ts.node, v.value]);
  const bodyBytes = Buffer.byteLength(body);
  const out = Buffer.allocUnsafe(HEADER_BYTES + bodyBytes);
  out.writeUInt32BE(fnv1a(`${key}\u0000${body}`), 0);
  out.write(body, HEADER_BYTES, 'utf8');
  return out;
}

export function decodeRecord(key: string, record: Uint8Array): Versioned {
  if (record.length < HEADER_BYTES + 2)
    throw new CorruptDataError(`the record of ${JSON.stringify(key)} is ${record.length} bytes, too short`);
  const buffer = Buffer.from(record.buffer, record.byteOffset, record.byteLength);
  const body = buffer.toString('utf8', HEADER_BYTES);
  if (fnv1a(`${key}\u0000${body}`) !== buffer.readUInt32BE(0))
    throw new CorruptDataError(`the record of ${JSON.stringify(key)} fails its checksum`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new CorruptDataError(`the record of ${JSON.stringify(key)} is not readable`);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    !Number.isSafeInteger(parsed[0]) ||
    !Number.isSafeInteger(parsed[1]) ||
    typeof parsed[2] !== 'string' ||
    (parsed[3] !== null && typeof parsed[3] !== 'string')
  )
    throw new CorruptDataError(`the record of ${JSON.stringify(key)} does not hold a version`);
  const [wall, logical, node, value] = parsed as [number, number, string, string | null];
  return { ts: { wall, logical, node }, value };
}
