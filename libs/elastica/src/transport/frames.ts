import { MalformedFrameError } from '../errors/elastica-error.js';
import { PREFIX_BYTES } from './frame-decoder.js';
import { decodePayload, encodePayload, writeStringPayload, type EncodedPayload } from './payload-codec.js';

/**
 * The frames of the wire. Each is `[u32 length][u8 type][body]`. Traffic frames have a binary header
 * (request id, pattern) and a tagged payload; handshake frames carry a small JSON object because they
 * are rare and must stay readable across protocol versions.
 */
export const enum FrameType {
  Hello = 1,
  Auth = 2,
  Refuse = 3,
  Gossip = 4,
  Request = 5,
  Event = 6,
  Next = 7,
  Complete = 8,
  Error = 9,
  Cancel = 10,
  /** Next + Complete in one frame: the common single-value reply. */
  Reply = 11,
  /**
   * Protocol version 2 (TRACE_CONTEXT_PROTOCOL): a REQUEST with the caller's trace context before it;
   * decoded as a Request with `trace`. Sent only on connections that negotiated version 2 or above.
   */
  TracedRequest = 12,
}

/** Longest trace context carried (W3C traceparent is 55 bytes; tracestate is capped at 512 by the spec). */
export const MAX_TRACE_CONTEXT_BYTES = 1024;

export type Frame =
  | { type: FrameType.Hello; version: number; body: Buffer }
  | { type: FrameType.Auth; proof: Buffer }
  | { type: FrameType.Refuse; reason: string; message: string }
  | { type: FrameType.Gossip; bytes: Buffer }
  | { type: FrameType.Request; id: number; pattern: string; data: unknown; trace?: string }
  | { type: FrameType.Event; pattern: string; data: unknown }
  | { type: FrameType.Next | FrameType.Reply; id: number; data: unknown }
  | { type: FrameType.Complete | FrameType.Cancel; id: number }
  | { type: FrameType.Error; id: number; error: unknown };

/** "ELST": a HELLO that does not start with it is not Elastica at all (bad frame, not a protocol mismatch). */
export const HELLO_MAGIC = 0x454c5354;
const MAX_PATTERN_BYTES = 0xffff;

/** Frame length (prefix included) of a body of `n` bytes after the type byte. */
function alloc(type: FrameType, bodyBytes: number): Buffer {
  const frame = Buffer.allocUnsafe(PREFIX_BYTES + 1 + bodyBytes);
  frame.writeUInt32BE(1 + bodyBytes, 0);
  frame[PREFIX_BYTES] = type;
  return frame;
}

const HEADER = PREFIX_BYTES + 1;
/** Control characters (newlines above all) in a peer's REFUSE message would let it forge log lines. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;

export function encodeHello(version: number, fields: object): Buffer {
  const json = Buffer.from(JSON.stringify(fields));
  const frame = alloc(FrameType.Hello, 6 + json.length);
  frame.writeUInt32BE(HELLO_MAGIC, HEADER);
  frame.writeUInt16BE(version, HEADER + 4);
  json.copy(frame, HEADER + 6);
  return frame;
}

export function encodeAuth(proof: Buffer): Buffer {
  const frame = alloc(FrameType.Auth, proof.length);
  proof.copy(frame, HEADER);
  return frame;
}

export function encodeRefuse(reason: string, message: string): Buffer {
  return encodeJsonFrame(FrameType.Refuse, { reason, message });
}

export function encodeGossip(bytes: Uint8Array): Buffer {
  const frame = alloc(FrameType.Gossip, bytes.byteLength);
  frame.set(bytes, HEADER);
  return frame;
}

/** Patterns are short and nearly always ASCII: a JS loop beats Buffer#write's native call (~15 vs ~80 ns). */
function writePattern(frame: Buffer, offset: number, pattern: string, bytes: number): void {
  if (bytes === pattern.length && bytes <= 64) {
    for (let i = 0; i < bytes; i++) frame[offset + i] = pattern.charCodeAt(i);
  } else frame.write(pattern, offset, bytes, 'utf8');
}

/**
 * Decoded patterns, so a node receiving the same few patterns over and over neither decodes nor
 * allocates them again (direct-mapped by length and two bytes; a miss just decodes).
 */
const PATTERN_CACHE_SLOTS = 64;
const patternCache = new Array<{ bytes: Buffer; text: string } | undefined>(PATTERN_CACHE_SLOTS);

function readPattern(body: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n === 0 || n > 64) return body.toString('utf8', start, end);
  const slot = (n * 31 + body[start] + body[end - 1]) & (PATTERN_CACHE_SLOTS - 1);
  const hit = patternCache[slot];
  if (hit && hit.bytes.length === n) {
    let i = 0;
    while (i < n && hit.bytes[i] === body[start + i]) i++;
    if (i === n) return hit.text;
  }
  const text = body.toString('utf8', start, end);
  patternCache[slot] = { bytes: Buffer.from(body.subarray(start, end)), text };
  return text;
}

function patternBytes(pattern: string): number {
  const n = Buffer.byteLength(pattern);
  if (n > MAX_PATTERN_BYTES) throw new RangeError(`pattern longer than ${MAX_PATTERN_BYTES} bytes`);
  return n;
}

export function encodeRequest(id: number, pattern: string, data: unknown): Buffer {
  if (typeof data !== 'string') return encodeRequestWith(id, pattern, encodePayload(data));
  // Strings (the commonest payload) skip the EncodedPayload object.
  const p = patternBytes(pattern);
  const d = Buffer.byteLength(data);
  const frame = alloc(FrameType.Request, 4 + 2 + p + 1 + d);
  frame.writeUInt32BE(id, HEADER);
  frame.writeUInt16BE(p, HEADER + 4);
  writePattern(frame, HEADER + 6, pattern, p);
  writeStringPayload(frame, HEADER + 6 + p, data, d);
  return frame;
}

export function encodeRequestWith(id: number, pattern: string, payload: EncodedPayload): Buffer {
  const p = patternBytes(pattern);
  const frame = alloc(FrameType.Request, 4 + 2 + p + payload.size);
  frame.writeUInt32BE(id, HEADER);
  frame.writeUInt16BE(p, HEADER + 4);
  writePattern(frame, HEADER + 6, pattern, p);
  payload.write(frame, HEADER + 6 + p);
  return frame;
}

/** A REQUEST carrying `trace` (see FrameType.TracedRequest): the plain frame's body behind the context. */
export function encodeTracedRequest(id: number, pattern: string, data: unknown, trace: string): Buffer {
  const plain = encodeRequest(id, pattern, data);
  const t = Buffer.byteLength(trace);
  if (t > MAX_TRACE_CONTEXT_BYTES) return plain; // a context that big is dropped, never the call
  const frame = alloc(FrameType.TracedRequest, 2 + t + plain.length - HEADER);
  frame.writeUInt16BE(t, HEADER);
  frame.write(trace, HEADER + 2, t, 'utf8');
  plain.copy(frame, HEADER + 2 + t, HEADER);
  return frame;
}

export function encodeEvent(pattern: string, data: unknown): Buffer {
  const payload = encodePayload(data);
  const p = patternBytes(pattern);
  const frame = alloc(FrameType.Event, 2 + p + payload.size);
  frame.writeUInt16BE(p, HEADER);
  writePattern(frame, HEADER + 2, pattern, p);
  payload.write(frame, HEADER + 2 + p);
  return frame;
}

export function encodeValue(type: FrameType.Next | FrameType.Reply, id: number, data: unknown): Buffer {
  if (typeof data === 'string') {
    const d = Buffer.byteLength(data);
    const frame = alloc(type, 4 + 1 + d);
    frame.writeUInt32BE(id, HEADER);
    writeStringPayload(frame, HEADER + 4, data, d);
    return frame;
  }
  const payload = encodePayload(data);
  const frame = alloc(type, 4 + payload.size);
  frame.writeUInt32BE(id, HEADER);
  payload.write(frame, HEADER + 4);
  return frame;
}

export function encodeId(type: FrameType.Complete | FrameType.Cancel, id: number): Buffer {
  const frame = alloc(type, 4);
  frame.writeUInt32BE(id, HEADER);
  return frame;
}

export function encodeError(id: number, error: unknown): Buffer {
  const json = Buffer.from(safeJson(error));
  const frame = alloc(FrameType.Error, 4 + json.length);
  frame.writeUInt32BE(id, HEADER);
  json.copy(frame, HEADER + 4);
  return frame;
}

function encodeJsonFrame(type: FrameType, value: object): Buffer {
  const json = Buffer.from(JSON.stringify(value));
  const frame = alloc(type, json.length);
  json.copy(frame, HEADER);
  return frame;
}

/** An error as it crosses the wire: its message and whatever plain fields it carries. */
function safeJson(error: unknown): string {
  let shape: unknown = error;
  if (error instanceof Error) shape = { ...error, name: error.name, message: error.message };
  try {
    return JSON.stringify(shape ?? { message: String(error) }) ?? JSON.stringify({ message: String(error) });
  } catch {
    return JSON.stringify({ message: error instanceof Error ? error.message : String(error) });
  }
}

function need(body: Buffer, bytes: number, what: string): void {
  if (body.length < bytes) throw new MalformedFrameError(`${what} frame truncated (${body.length} bytes)`);
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new MalformedFrameError(`${what} frame is not valid JSON`);
  }
}

/** Decodes one frame body (type byte first, prefix already removed). Throws MalformedFrameError. */
export function decodeFrame(body: Buffer): Frame {
  const byte = body[0];
  // Any byte at all; one that is no FrameType falls to the default case.
  const type = byte as FrameType;
  switch (type) {
    case FrameType.Hello: {
      need(body, 7, 'HELLO');
      if (body.readUInt32BE(1) !== HELLO_MAGIC) throw new MalformedFrameError('HELLO without the Elastica magic');
      return { type, version: body.readUInt16BE(5), body: body.subarray(7) };
    }
    case FrameType.Auth:
      return { type, proof: Buffer.from(body.subarray(1)) };
    case FrameType.Refuse: {
      const value = parseJson(body.subarray(1), 'REFUSE') as { reason?: unknown; message?: unknown } | null;
      if (typeof value?.reason !== 'string') throw new MalformedFrameError('REFUSE without a reason');
      // The peer's words end up in our logs and counters: keep them short, printable, from a known set.
      const reason = /^[a-z_]{1,32}$/.test(value.reason) ? value.reason : 'unknown';
      const message = typeof value.message === 'string' ? value.message.replace(CONTROL, ' ').slice(0, 500) : '';
      return { type, reason, message };
    }
    case FrameType.Gossip:
      return { type, bytes: Buffer.from(body.subarray(1)) };
    case FrameType.Request: {
      need(body, 7, 'REQUEST');
      const p = body.readUInt16BE(5);
      need(body, 7 + p + 1, 'REQUEST');
      return {
        type,
        id: body.readUInt32BE(1),
        pattern: readPattern(body, 7, 7 + p),
        data: decodePayload(body.subarray(7 + p)),
      };
    }
    case FrameType.TracedRequest: {
      need(body, 3, 'REQUEST');
      const t = body.readUInt16BE(1);
      if (t > MAX_TRACE_CONTEXT_BYTES) throw new MalformedFrameError(`trace context of ${t} bytes`);
      need(body, 3 + t + 6 + 1, 'REQUEST');
      const trace = body.toString('utf8', 3, 3 + t);
      // Printable ASCII and the newline between traceparent and tracestate: it ends up in the tracer.
      if (!/^[\x20-\x7e]*(\n[\x20-\x7e]*)?$/.test(trace))
        throw new MalformedFrameError('trace context is not printable');
      const at = 3 + t;
      const p = body.readUInt16BE(at + 4);
      need(body, at + 6 + p + 1, 'REQUEST');
      return {
        type: FrameType.Request,
        id: body.readUInt32BE(at),
        pattern: readPattern(body, at + 6, at + 6 + p),
        data: decodePayload(body.subarray(at + 6 + p)),
        trace,
      };
    }
    case FrameType.Event: {
      need(body, 3, 'EVENT');
      const p = body.readUInt16BE(1);
      need(body, 3 + p + 1, 'EVENT');
      return { type, pattern: readPattern(body, 3, 3 + p), data: decodePayload(body.subarray(3 + p)) };
    }
    case FrameType.Next:
    case FrameType.Reply:
      need(body, 6, 'reply');
      return { type, id: body.readUInt32BE(1), data: decodePayload(body.subarray(5)) };
    case FrameType.Complete:
    case FrameType.Cancel:
      if (body.length !== 5) throw new MalformedFrameError(`frame type ${type} must be 5 bytes, got ${body.length}`);
      return { type, id: body.readUInt32BE(1) };
    case FrameType.Error:
      need(body, 5, 'ERROR');
      return { type, id: body.readUInt32BE(1), error: parseJson(body.subarray(5), 'ERROR') };
    default:
      throw new MalformedFrameError(`unknown frame type ${byte}`);
  }
}
