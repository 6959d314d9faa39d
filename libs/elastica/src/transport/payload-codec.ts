import { MalformedFrameError } from '../errors/elastica-error.js';

/**
 * How a user's value travels: one tag byte, then its bytes. Strings and binary go raw (no quoting, no
 * base64); everything else is JSON, which V8 encodes and parses natively faster than any JS-level
 * binary codec we measured (see the rpc bench's `codec` figures). `undefined` is a tag of its own so a
 * handler returning nothing arrives as nothing.
 */
export const enum PayloadTag {
  Undefined = 0,
  Json = 1,
  Bytes = 2,
  String = 3,
}

/** Encoded size of `value` plus the function that writes it; lets a frame be allocated once. */
export interface EncodedPayload {
  readonly size: number;
  write(target: Buffer, offset: number): void;
}

const UNDEFINED: EncodedPayload = { size: 1, write: (t, o) => void t.writeUInt8(PayloadTag.Undefined, o) };

function text(tag: PayloadTag, s: string): EncodedPayload {
  // Short strings: byteLength + write avoids an intermediate Buffer; long ones pay one pass either way.
  const bytes = Buffer.byteLength(s);
  return {
    size: 1 + bytes,
    write(target, offset) {
      target[offset] = tag;
      target.write(s, offset + 1, bytes, 'utf8');
    },
  };
}

/** Writes a string payload at `offset` of a frame allocated with stringPayloadSize(); the hot path, no closures. */
export function writeStringPayload(target: Buffer, offset: number, value: string, bytes: number): void {
  target[offset] = PayloadTag.String;
  target.write(value, offset + 1, bytes, 'utf8');
}

export function encodePayload(value: unknown): EncodedPayload {
  if (value === undefined) return UNDEFINED;
  if (typeof value === 'string') return text(PayloadTag.String, value);
  if (value instanceof Uint8Array) {
    return {
      size: 1 + value.byteLength,
      write(target, offset) {
        target[offset] = PayloadTag.Bytes;
        target.set(value, offset + 1);
      },
    };
  }
  const json = JSON.stringify(value);
  // JSON.stringify returns undefined for functions and symbols: they travel as nothing, as in Nest.
  return json === undefined ? UNDEFINED : text(PayloadTag.Json, json);
}

/** Decodes what encodePayload wrote; `bytes` is exactly the payload. Binary arrives as a Buffer copy. */
export function decodePayload(bytes: Buffer): unknown {
  if (bytes.length === 0) throw new MalformedFrameError('payload without its tag byte');
  const byte = bytes[0];
  // Any byte at all; one that is no PayloadTag falls to the default case.
  const tag = byte as PayloadTag;
  switch (tag) {
    case PayloadTag.Undefined:
      return undefined;
    case PayloadTag.String:
      return bytes.toString('utf8', 1);
    case PayloadTag.Json:
      try {
        return JSON.parse(bytes.toString('utf8', 1));
      } catch (error) {
        throw new MalformedFrameError(`payload is not valid JSON: ${(error as Error).message}`);
      }
    case PayloadTag.Bytes:
      // A copy: the frame may be a view into a socket chunk that is reused.
      return Buffer.from(bytes.subarray(1));
    default:
      throw new MalformedFrameError(`unknown payload tag ${byte}`);
  }
}

/** A value as the far side would see it, for calls a node makes to itself: same semantics, no socket. */
export function roundTrip(value: unknown): unknown {
  const payload = encodePayload(value);
  const bytes = Buffer.allocUnsafe(payload.size);
  payload.write(bytes, 0);
  return decodePayload(bytes);
}
