import fc from 'fast-check';
import {
  encodeAuth,
  encodeError,
  encodeEvent,
  encodeGossip,
  encodeHello,
  encodeId,
  encodeRefuse,
  encodeRequest,
  encodeValue,
  FrameType,
} from '../frames.js';
import { HANDSHAKE_MAX_FRAME_BYTES, PROTOCOL_VERSION, REFUSAL_REASONS } from '../handshake.js';

/**
 * What a hostile or broken peer sends, as fast-check arbitraries: HELLOs with each field sometimes
 * wrong, AUTHs with random proofs, REFUSEs, traffic frames with hostile values, unknown types, truncated
 * frames, huge or empty length prefixes, random bytes; and `stream`, a few of them cut into chunks
 * wherever the network pleases. Shared by the in-memory fuzz and the one over real sockets.
 */

const text = fc.string({ maxLength: 40 });
const idLike = fc.oneof(
  fc.constantFrom('node-a', 'node-z', 'node-m', ''),
  text,
  fc.string({ minLength: 250, maxLength: 320 }),
);
/** A HELLO's JSON: mostly plausible, each field sometimes wrong in kind, size or content. */
const helloFields = fc.record(
  {
    cluster: fc.oneof(fc.constant('orders'), fc.constant('billing'), text, fc.anything()),
    nodeId: fc.oneof(idLike, fc.anything()),
    generation: fc.oneof(fc.integer(), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER), fc.anything()),
    advertise: fc.oneof(
      fc.constant('10.0.0.2:7000'),
      text,
      fc.string({ minLength: 290, maxLength: 320 }),
      fc.anything(),
    ),
    nonce: fc.oneof(fc.base64String({ minLength: 4, maxLength: 24 }), fc.string({ maxLength: 80 }), fc.anything()),
    auth: fc.oneof(fc.boolean(), fc.anything()),
    proof: fc.oneof(
      fc.constant(undefined),
      fc.base64String({ maxLength: 60 }),
      fc.string({ maxLength: 200 }),
      fc.anything(),
    ),
  },
  { requiredKeys: [] },
);

function framed(type: number, body: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + body.byteLength);
  frame.writeUInt32BE(1 + body.byteLength, 0);
  frame[4] = type;
  frame.set(body, 5);
  return frame;
}

export const hello = fc.oneof(
  fc
    .tuple(
      fc.oneof({ weight: 4, arbitrary: fc.constant(PROTOCOL_VERSION) }, fc.integer({ min: 0, max: 0xffff })),
      helloFields,
    )
    .map(([v, f]) => encodeHello(v, f)),
  // valid framing, body not JSON, or JSON that is not an object
  fc
    .tuple(
      fc.integer({ min: 0, max: 0xffff }),
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.json().map((j) => Buffer.from(j)),
      ),
    )
    .map(([v, body]) => {
      const b = Buffer.alloc(6 + body.byteLength);
      b.writeUInt32BE(0x454c5354, 0);
      b.writeUInt16BE(v, 4);
      b.set(body, 6);
      return framed(FrameType.Hello, b);
    }),
  // HELLO without the magic, or cut short
  fc.uint8Array({ maxLength: 12 }).map((b) => framed(FrameType.Hello, b)),
);

const value = fc.oneof(fc.anything({ maxDepth: 3 }), fc.string(), fc.uint8Array({ maxLength: 64 }));
const id = fc.nat({ max: 0xffffffff });
export const traffic = fc.oneof(
  fc.tuple(id, fc.string({ maxLength: 20 }), value).map(([i, p, d]) => encodeRequest(i, p, d)),
  fc.tuple(fc.string({ maxLength: 20 }), value).map(([p, d]) => encodeEvent(p, d)),
  fc.tuple(fc.constantFrom(FrameType.Next, FrameType.Reply), id, value).map(([t, i, d]) => encodeValue(t, i, d)),
  fc.tuple(fc.constantFrom(FrameType.Complete, FrameType.Cancel), id).map(([t, i]) => encodeId(t, i)),
  fc.tuple(id, value).map(([i, e]) => encodeError(i, e)),
  fc.uint8Array({ maxLength: 64 }).map((b) => encodeGossip(b)),
);

export const frame = fc.oneof(
  { weight: 3, arbitrary: hello },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((p) => encodeAuth(Buffer.from(p))) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(fc.constantFrom(...REFUSAL_REASONS), text), fc.string({ maxLength: 600 }))
      .map(([r, m]) => encodeRefuse(r, m)),
  },
  { weight: 1, arbitrary: fc.oneof(fc.json(), fc.string()).map((j) => framed(FrameType.Refuse, Buffer.from(j))) },
  { weight: 3, arbitrary: traffic },
  // a known type with a body of random bytes, or a type that does not exist
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 80 }))
      .map(([t, b]) => framed(t, b)),
  },
  // a truncated frame: its prefix promises more than comes
  {
    weight: 1,
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 20_000 }), fc.uint8Array({ maxLength: 40 })).map(([n, b]) => {
      const p = Buffer.alloc(4);
      p.writeUInt32BE(n, 0);
      return Buffer.concat([p, b]);
    }),
  },
  // a huge or empty length prefix
  {
    weight: 1,
    arbitrary: fc.oneof(fc.integer({ min: HANDSHAKE_MAX_FRAME_BYTES, max: 0xffffffff }), fc.constant(0)).map((n) => {
      const p = Buffer.alloc(4);
      p.writeUInt32BE(n, 0);
      return p;
    }),
  },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 120 }).map((b) => Buffer.from(b)) },
);

/** The stream a peer sends, and where the network cuts it into chunks. */
export const stream = fc
  .tuple(fc.array(frame, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 6 }))
  .map(([frames, at]) => {
    const bytes = Buffer.concat(frames);
    const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((x, y) => x - y);
    const chunks: Buffer[] = [];
    let from = 0;
    for (const p of points) {
      if (p > from) chunks.push(bytes.subarray(from, p));
      from = p;
    }
    if (from < bytes.length) chunks.push(bytes.subarray(from));
    return chunks;
  });
