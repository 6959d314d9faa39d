import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { GossipDecodeError } from '../../errors/gossip-decode.error.js';
import {
  decodeMessage,
  deltaOverhead,
  digestEntrySize,
  encodeMessage,
  headerSize,
  itemSize,
  PREAMBLE_BYTES,
} from './codec.js';
import { incarnationRef } from './incarnation.js';
import type { Delta, GossipMessage, Item } from './messages.js';

const ref = fc.integer({ min: 0, max: 2 ** 48 - 1 });
const version = fc.integer({ min: 1, max: 2 ** 40 });
const header = fc.record({ senderRef: ref, senderHeartbeat: fc.nat(), receiverRef: ref, receiverVersion: fc.nat() });
const digest = fc.record({ ref, version: fc.nat() });
const identity = fc.record({
  id: fc.string({ minLength: 1 }),
  address: fc.string(),
  generation: fc.integer({ min: 0, max: 2 ** 45 }),
});
const items: fc.Arbitrary<Item[]> = fc
  .array(
    fc.oneof(
      fc.record({ key: fc.constant(undefined), status: fc.constantFrom('joining', 'up', 'leaving', 'left' as const) }),
      fc.record({ key: fc.string(), value: fc.string() }),
    ),
    { maxLength: 6 },
  )
  .chain((list) =>
    fc.uniqueArray(version, { minLength: list.length, maxLength: list.length }).map((versions) => {
      versions.sort((a, b) => a - b);
      return list.map((item, i) => ({ ...item, version: versions[i] }));
    }),
  );
const delta: fc.Arbitrary<Delta> = fc.oneof(
  fc.record({ ref, items }).map((d) => ({ ref: d.ref, items: d.items })),
  fc
    .record({ identity, items })
    .map((d) => ({ ref: incarnationRef(d.identity.id, d.identity.generation), identity: d.identity, items: d.items })),
);
const message: fc.Arbitrary<GossipMessage> = fc.oneof(
  fc.record({
    type: fc.constant('syn' as const),
    header,
    complete: fc.boolean(),
    digests: fc.array(digest, { maxLength: 20 }),
  }),
  fc.record({
    type: fc.constant('ack' as const),
    header,
    requests: fc.array(digest, { maxLength: 10 }),
    deltas: fc.array(delta, { maxLength: 5 }),
  }),
  fc.record({ type: fc.constant('ack2' as const), header, deltas: fc.array(delta, { maxLength: 5 }) }),
  fc.record({ type: fc.constantFrom('ping' as const, 'pong' as const), header }),
);

function predictedSize(m: GossipMessage): number {
  let size = PREAMBLE_BYTES + headerSize(m.header);
  const digests = m.type === 'syn' ? m.digests : m.type === 'ack' ? m.requests : undefined;
  if (digests) size += varint(digests.length) + digests.reduce((sum, d) => sum + digestEntrySize(d.version), 0);
  if (m.type === 'ack' || m.type === 'ack2') {
    size += 1;
    for (const d of m.deltas)
      size += deltaOverhead(d.identity) + d.items.reduce((sum, item) => sum + itemSize(item), 0);
  }
  return size;
}
function varint(n: number): number {
  return n < 128 ? 1 : n < 16384 ? 2 : 3;
}

describe('gossip codec', () => {
  it('decodes what it encodes, to the byte its size functions predict', () => {
    fc.assert(
      fc.property(message, (m) => {
        const bytes = encodeMessage(m);
        expect(decodeMessage(bytes)).toEqual(m);
        expect(bytes.length).toBe(predictedSize(m));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses any truncation or corruption with a GossipDecodeError, never another exception', () => {
    fc.assert(
      fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, at, byte) => {
        const bytes = encodeMessage(m);
        const cut = bytes.subarray(0, at % bytes.length);
        expect(() => decodeMessage(cut)).toThrow(GossipDecodeError);
        const flipped = bytes.slice();
        flipped[at % bytes.length] = byte;
        try {
          decodeMessage(flipped);
        } catch (error) {
          expect(error).toBeInstanceOf(GossipDecodeError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('keeps a digest entry at about 9 bytes (6-byte ref and a short version)', () => {
    expect(digestEntrySize(86_400)).toBe(9);
    const syn = encodeMessage({
      type: 'syn',
      header: { senderRef: 1, senderHeartbeat: 5000, receiverRef: 2, receiverVersion: 5000 },
      complete: true,
      digests: Array.from({ length: 1000 }, (_, i) => ({ ref: i * 7919, version: 86_400 })),
    });
    expect(syn.length).toBeLessThan(9_050);
  });

  it('names what is wrong with a message', () => {
    expect(() => decodeMessage(new Uint8Array([1, 2, 3]))).toThrow(/not a gossip message/);
    expect(() => decodeMessage(new Uint8Array([0xea, 7]))).toThrow(/unknown message type/);
  });
});
