import type { Timestamp } from '../store/hlc.js';
import type { BucketDigest, ListingPosition } from '../store/digest.js';
import type { Versioned } from '../store/versioned.js';

/** Patterns of the store's peer traffic (`@ClusterMessage` handlers, `ClusterClient.send`). */
export const KV_PUT = 'kv.put';
export const KV_GET = 'kv.get';
export const KV_SYNC_DIGEST = 'kv.sync.digest';
export const KV_SYNC_PULL = 'kv.sync.pull';
export const KV_SYNC_PUSH = 'kv.sync.push';
/** Before a handoff pushes copies: which of these (key, timestamp) the target already holds, at that version or later. */
export const KV_SYNC_OFFER = 'kv.sync.offer';

export type Summary = [key: string, wall: number, logical: number, node: string];

export interface OfferMessage {
  summaries: Summary[];
}

export interface OfferReply {
  /** Offered keys held here at the offered version or a later one: nothing to send. */
  have: string[];
}

export interface PutMessage {
  key: string;
  v: Versioned;
}
export interface GetMessage {
  key: string;
}
export interface DigestMessage {
  buckets: BucketDigest[];
  /** List only keys after this position (see `ListingPosition`): where the sender's last cut-off listing ended. */
  after?: ListingPosition;
}
export interface DigestReply {
  /** The buckets that differ from the sender's digest. */
  buckets: number[];
  /** This replica's keys in those buckets (after `after`, in listing order), with their timestamps. */
  summaries: [key: string, wall: number, logical: number, node: string][];
  /** True when there were more than fit in one reply: the rest waits for the next round. */
  truncated: boolean;
  /** With `truncated`: the listing holds every such key up to this position; ask for the ones after it next. */
  until?: ListingPosition;
}
export interface PullMessage {
  keys: string[];
}
export interface PullReply {
  entries: [string, Versioned][];
  /** Asked-for keys this replica has no copy of. */
  absent: string[];
  /** Asked-for keys left out to bound the reply: ask again. */
  truncated: string[];
}
export interface PushMessage {
  entries: [string, Versioned][];
}
export interface PushReply {
  applied: number;
  stale: number;
  refused: number;
  /**
   * The pushed keys this replica now holds at the pushed version or a later one (applied or stale):
   * the sender counts a copy delivered, and may drop its own, only when its key is listed here.
   */
  accepted: string[];
}

export interface MessageLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
  /** Most keys or entries in one pull or push, and most buckets in a digest. */
  maxItems: number;
}

/** A peer sent something this store cannot use; the peer gets this message back as its error. */
export class BadMessageError extends Error {
  constructor(pattern: string, problem: string) {
    super(`bad ${pattern} message: ${problem}`);
    this.name = 'BadMessageError';
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function checkKey(pattern: string, key: unknown, limits: MessageLimits): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new BadMessageError(pattern, 'the key must be a non-empty string');
  const bytes = Buffer.byteLength(key);
  if (bytes > limits.maxKeyBytes)
    throw new BadMessageError(pattern, `the key is ${bytes} bytes, at most ${limits.maxKeyBytes} are accepted`);
  return key;
}

function checkTimestamp(pattern: string, ts: unknown): Timestamp {
  if (!isObject(ts)) throw new BadMessageError(pattern, 'the timestamp must be an object');
  const { wall, logical, node } = ts;
  if (typeof wall !== 'number' || !Number.isSafeInteger(wall) || wall < 0)
    throw new BadMessageError(pattern, `timestamp wall ${JSON.stringify(wall)} is not a non-negative integer`);
  if (typeof logical !== 'number' || !Number.isSafeInteger(logical) || logical < 0)
    throw new BadMessageError(pattern, `timestamp logical ${JSON.stringify(logical)} is not a non-negative integer`);
  if (typeof node !== 'string' || node.length === 0 || node.length > 256)
    throw new BadMessageError(pattern, 'timestamp node must be a non-empty string of at most 256 characters');
  return { wall, logical, node };
}

export function checkVersioned(pattern: string, v: unknown, limits: MessageLimits): Versioned {
  if (!isObject(v)) throw new BadMessageError(pattern, 'the version must be an object');
  const ts = checkTimestamp(pattern, v.ts);
  const { value } = v;
  if (value !== null && typeof value !== 'string')
    throw new BadMessageError(pattern, 'the value must be a string or null (a delete)');
  if (value !== null) {
    const bytes = Buffer.byteLength(value);
    if (bytes > limits.maxValueBytes)
      throw new BadMessageError(pattern, `the value is ${bytes} bytes, at most ${limits.maxValueBytes} are accepted`);
  }
  return { ts, value };
}

function checkList(pattern: string, field: string, list: unknown, limits: MessageLimits): unknown[] {
  if (!Array.isArray(list)) throw new BadMessageError(pattern, `${field} must be an array`);
  if (list.length > limits.maxItems)
    throw new BadMessageError(pattern, `${field} has ${list.length} items, at most ${limits.maxItems} are accepted`);
  return list;
}

export function checkPut(x: unknown, limits: MessageLimits): PutMessage {
  if (!isObject(x)) throw new BadMessageError(KV_PUT, 'expected { key, v }');
  return { key: checkKey(KV_PUT, x.key, limits), v: checkVersioned(KV_PUT, x.v, limits) };
}

export function checkGet(x: unknown, limits: MessageLimits): GetMessage {
  if (!isObject(x)) throw new BadMessageError(KV_GET, 'expected { key }');
  return { key: checkKey(KV_GET, x.key, limits) };
}

function checkPosition(pattern: string, field: string, x: unknown, limits: MessageLimits): ListingPosition {
  if (!Array.isArray(x) || x.length !== 2) throw new BadMessageError(pattern, `${field} must be [hash, key]`);
  const [hash, key] = x as unknown[];
  if (typeof hash !== 'number' || !Number.isInteger(hash) || hash < 0 || hash > 0xffffffff)
    throw new BadMessageError(pattern, `${field} hash ${JSON.stringify(hash)} is not an unsigned 32-bit integer`);
  return [hash, checkKey(pattern, key, limits)];
}

export function checkDigest(x: unknown, buckets: number, limits: MessageLimits): DigestMessage {
  if (!isObject(x) || !Array.isArray(x.buckets)) throw new BadMessageError(KV_SYNC_DIGEST, 'expected { buckets }');
  if (x.buckets.length !== buckets)
    throw new BadMessageError(KV_SYNC_DIGEST, `expected ${buckets} buckets, got ${x.buckets.length}`);
  const out: BucketDigest[] = [];
  for (const b of x.buckets) {
    if (
      !Array.isArray(b) ||
      b.length !== 3 ||
      !b.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)
    ) {
      throw new BadMessageError(KV_SYNC_DIGEST, 'each bucket must be [count, xor, sum] of non-negative integers');
    }
    out.push([b[0], b[1], b[2]]);
  }
  return x.after === undefined || x.after === null
    ? { buckets: out }
    : { buckets: out, after: checkPosition(KV_SYNC_DIGEST, 'after', x.after, limits) };
}

export function checkPull(x: unknown, limits: MessageLimits): PullMessage {
  if (!isObject(x)) throw new BadMessageError(KV_SYNC_PULL, 'expected { keys }');
  return { keys: checkList(KV_SYNC_PULL, 'keys', x.keys, limits).map((k) => checkKey(KV_SYNC_PULL, k, limits)) };
}

export function checkEntries(pattern: string, x: unknown, limits: MessageLimits): [string, Versioned][] {
  if (!isObject(x)) throw new BadMessageError(pattern, 'expected { entries }');
  return checkList(pattern, 'entries', x.entries, limits).map((e) => {
    if (!Array.isArray(e) || e.length !== 2) throw new BadMessageError(pattern, 'each entry must be [key, version]');
    return [checkKey(pattern, e[0], limits), checkVersioned(pattern, e[1], limits)];
  });
}

export function checkPush(x: unknown, limits: MessageLimits): PushMessage {
  return { entries: checkEntries(KV_SYNC_PUSH, x, limits) };
}

/** The keys of `pushed` the reply says the replica holds; a reply without a usable list confirms nothing. */
export function checkPushReply(x: unknown, pushed: ReadonlySet<string>): Set<string> {
  if (!isObject(x) || !Array.isArray(x.accepted))
    throw new BadMessageError(KV_SYNC_PUSH, 'expected a reply { accepted }');
  const accepted = new Set<string>();
  for (const key of x.accepted) if (typeof key === 'string' && pushed.has(key)) accepted.add(key);
  return accepted;
}

export function checkOffer(x: unknown, limits: MessageLimits): OfferMessage {
  if (!isObject(x)) throw new BadMessageError(KV_SYNC_OFFER, 'expected { summaries }');
  const summaries = checkList(KV_SYNC_OFFER, 'summaries', x.summaries, limits).map((s: unknown): Summary => {
    if (!Array.isArray(s) || s.length !== 4)
      throw new BadMessageError(KV_SYNC_OFFER, 'each summary must be [key, wall, logical, node]');
    const [rawKey, wall, logical, node] = s as unknown[];
    const key = checkKey(KV_SYNC_OFFER, rawKey, limits);
    const ts = checkTimestamp(KV_SYNC_OFFER, { wall, logical, node });
    return [key, ts.wall, ts.logical, ts.node];
  });
  return { summaries };
}

export function checkOfferReply(x: unknown, offered: ReadonlySet<string>): Set<string> {
  if (!isObject(x) || !Array.isArray(x.have)) throw new BadMessageError(KV_SYNC_OFFER, 'expected a reply { have }');
  const have = new Set<string>();
  for (const key of x.have) if (typeof key === 'string' && offered.has(key)) have.add(key);
  return have;
}

export function checkDigestReply(x: unknown, buckets: number, limits: MessageLimits): DigestReply {
  if (!isObject(x) || !Array.isArray(x.buckets) || !Array.isArray(x.summaries) || typeof x.truncated !== 'boolean') {
    throw new BadMessageError(KV_SYNC_DIGEST, 'expected a reply { buckets, summaries, truncated }');
  }
  for (const b of x.buckets) {
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b >= buckets)
      throw new BadMessageError(KV_SYNC_DIGEST, `bucket ${JSON.stringify(b)} is out of range`);
  }
  for (const s of x.summaries) {
    if (
      !Array.isArray(s) ||
      s.length !== 4 ||
      typeof s[0] !== 'string' ||
      typeof s[1] !== 'number' ||
      typeof s[2] !== 'number' ||
      typeof s[3] !== 'string'
    ) {
      throw new BadMessageError(KV_SYNC_DIGEST, 'each summary must be [key, wall, logical, node]');
    }
  }
  const until =
    x.until === undefined || x.until === null ? undefined : checkPosition(KV_SYNC_DIGEST, 'until', x.until, limits);
  return {
    buckets: x.buckets as number[],
    summaries: x.summaries as DigestReply['summaries'],
    truncated: x.truncated,
    ...(until ? { until } : {}),
  };
}
