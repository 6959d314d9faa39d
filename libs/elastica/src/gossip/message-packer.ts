import { shuffle, type Random } from '../common/random.js';
import type { GossipOptions } from '../options/elastica-options.js';
import type { EndpointState } from './endpoint-state.js';
import { varintSize } from './wire/bytes.js';
import { deltaOverhead, digestEntrySize, headerSize, itemSize, PREAMBLE_BYTES } from './wire/codec.js';
import type { Delta, DigestEntry, GossipMessage, Item, MessageHeader } from './wire/messages.js';

/** Largest header: two refs and two varints of at most 8 bytes. */
const MAX_HEADER_BYTES = 12 + 8 + 8;

/** A delta to send: `endpoint`'s entries newer than `after` (0: all of them, with its identity). */
export interface DeltaCandidate {
  endpoint: EndpointState;
  after: number;
}

/** How many of `items`, taken in order, fit in `budget` bytes, and the bytes they take. */
export function takeWhileFits<T>(
  items: readonly T[],
  size: (item: T) => number,
  budget: number,
): { count: number; bytes: number } {
  let bytes = 0;
  let count = 0;
  while (count < items.length && bytes + size(items[count]) <= budget) bytes += size(items[count++]);
  return { count, bytes };
}

/**
 * Bytes `key` = `value` takes in a delta of `owner` (its identity included, its version with room to
 * grow), and what one message can hold beside the largest header: a state that fits always travels.
 */
export function entryWireSize(
  owner: EndpointState,
  key: string,
  value: string,
  mtuBytes: number,
): { size: number; limit: number } {
  const size = itemSize({ version: owner.maxVersion + 1_000_001, key, value }) + deltaOverhead(owner.identity);
  return { size, limit: mtuBytes - PREAMBLE_BYTES - MAX_HEADER_BYTES - 4 };
}

const digestSize = (entry: DigestEntry): number => digestEntrySize(entry.version);

/**
 * Builds SYN, ACK and ACK2 within gossip.mtuBytes; what does not fit waits for a later exchange.
 * See docs/ARCHITECTURE.md, Gossip › One exchange.
 */
export class MessagePacker {
  constructor(
    private readonly options: GossipOptions,
    private readonly random: Random,
  ) {}

  /** A digest of `endpoints`; when it does not fit, a random part of it marked incomplete. */
  syn(header: MessageHeader, endpoints: Iterable<EndpointState>): GossipMessage {
    const digests: DigestEntry[] = [];
    let size = 0;
    for (const endpoint of endpoints) {
      digests.push({ ref: endpoint.ref, version: endpoint.maxVersion });
      size += digestEntrySize(endpoint.maxVersion);
    }
    const budget = this.options.mtuBytes - PREAMBLE_BYTES - headerSize(header) - varintSize(digests.length);
    if (size <= budget) return { type: 'syn', header, complete: true, digests };
    shuffle(this.random, digests);
    digests.length = takeWhileFits(digests, digestSize, budget - 3).count;
    return { type: 'syn', header, complete: false, digests };
  }

  /** `requests` for what the peer has newer, and the deltas of `pushes` it lacks. */
  ack(header: MessageHeader, requests: DigestEntry[], pushes: DeltaCandidate[]): GossipMessage {
    let budget = this.options.mtuBytes - PREAMBLE_BYTES - headerSize(header) - 1;
    // Requests are small and make the exchange pull as well as push; they get at most half when both compete.
    const requestBudget = (pushes.length > 0 ? Math.floor(budget / 2) : budget) - 3;
    let requestBytes = 0;
    for (const request of requests) requestBytes += digestSize(request);
    if (requestBytes > requestBudget) {
      shuffle(this.random, requests);
      const taken = takeWhileFits(requests, digestSize, requestBudget);
      requests.length = taken.count;
      requestBytes = taken.bytes;
    }
    budget -= requestBytes + varintSize(requests.length);
    return { type: 'ack', header, requests, deltas: this.deltas(pushes, budget) };
  }

  ack2(header: MessageHeader, wanted: DeltaCandidate[]): GossipMessage & { type: 'ack2' } {
    const budget = this.options.mtuBytes - PREAMBLE_BYTES - headerSize(header) - 1;
    return { type: 'ack2', header, deltas: this.deltas(wanted, budget) };
  }

  /** Fills `budget` bytes with deltas, with no gap in an owner's versions and by scuttle-depth (see the class). */
  private deltas(candidates: DeltaCandidate[], budget: number): Delta[] {
    let total = 0;
    const prepared: { candidate: DeltaCandidate; items: Item[]; overhead: number; size: number; lag: number }[] = [];
    for (const candidate of candidates) {
      const items = candidate.endpoint.itemsAfter(candidate.after);
      if (items.length === 0) continue;
      const overhead = deltaOverhead(candidate.after === 0 ? candidate.endpoint.identity : undefined);
      let size = 0;
      for (const item of items) size += itemSize(item);
      prepared.push({ candidate, items, overhead, size, lag: candidate.endpoint.maxVersion - candidate.after });
      total += overhead + size;
    }
    if (total > budget) {
      shuffle(this.random, prepared);
      prepared.sort((a, b) => b.items.length - a.items.length || b.lag - a.lag);
    }
    const deltas: Delta[] = [];
    let remaining = budget;
    for (const { candidate, items, overhead, size } of prepared) {
      if (remaining < 16) break;
      const { endpoint, after } = candidate;
      const identity = after === 0 ? endpoint.identity : undefined;
      if (overhead + size <= remaining) {
        deltas.push({ ref: endpoint.ref, identity, items });
        remaining -= overhead + size;
        continue;
      }
      const taken = takeWhileFits(items, itemSize, remaining - overhead);
      if (taken.count === 0) continue;
      deltas.push({ ref: endpoint.ref, identity, items: items.slice(0, taken.count) });
      remaining -= overhead + taken.bytes;
    }
    return deltas;
  }
}
