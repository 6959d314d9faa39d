/** Byte-level helpers of the gossip codec: LEB128 varints up to 2^53, 48-bit refs, length-prefixed UTF-8. */

import { GossipDecodeError } from '../../errors/gossip-decode.error.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** UTF-8 length without allocating. */
export function utf8Length(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) length += 1;
    else if (code < 0x800) length += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length += 4;
        i++;
      } else length += 3;
    } else length += 3;
  }
  return length;
}

export function stringSize(text: string): number {
  const length = utf8Length(text);
  return varintSize(length) + length;
}

export class ByteWriter {
  private buffer: Uint8Array;
  private length = 0;

  constructor(capacity = 256) {
    this.buffer = new Uint8Array(capacity);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`varint: expected a safe non-negative integer, got ${value}`);
    this.reserve(8);
    while (value >= 128) {
      this.buffer[this.length++] = (value % 128) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buffer[this.length++] = value;
  }

  /** A 48-bit unsigned integer, big-endian. */
  u48(value: number): void {
    this.reserve(6);
    const high = Math.floor(value / 0x1000000);
    const low = value % 0x1000000;
    this.buffer[this.length++] = (high >>> 16) & 0xff;
    this.buffer[this.length++] = (high >>> 8) & 0xff;
    this.buffer[this.length++] = high & 0xff;
    this.buffer[this.length++] = (low >>> 16) & 0xff;
    this.buffer[this.length++] = (low >>> 8) & 0xff;
    this.buffer[this.length++] = low & 0xff;
  }

  string(text: string): void {
    // ASCII (ids, addresses, most keys) is written directly: the encoder's allocation dominates otherwise.
    if (text.length < 128) {
      let ascii = true;
      for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) >= 0x80) ascii = false;
      if (ascii) {
        this.reserve(1 + text.length);
        this.buffer[this.length++] = text.length;
        for (let i = 0; i < text.length; i++) this.buffer[this.length++] = text.charCodeAt(i);
        return;
      }
    }
    const bytes = encoder.encode(text);
    this.varint(bytes.length);
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  get size(): number {
    return this.length;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

export class ByteReader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  private need(count: number, what: string): void {
    if (this.offset + count > this.bytes.length)
      throw new GossipDecodeError(
        `truncated message: ${what} needs ${count} byte(s) at offset ${this.offset} of ${this.bytes.length}`,
      );
  }

  u8(what = 'a byte'): number {
    this.need(1, what);
    return this.bytes[this.offset++];
  }

  varint(what = 'a varint'): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8(what);
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) throw new GossipDecodeError(`${what} is larger than 2^53`);
        return value;
      }
      scale *= 128;
    }
    throw new GossipDecodeError(`${what} is longer than 8 bytes`);
  }

  u48(what = 'a ref'): number {
    this.need(6, what);
    const b = this.bytes;
    const o = this.offset;
    this.offset += 6;
    return ((b[o] << 16) | (b[o + 1] << 8) | b[o + 2]) * 0x1000000 + ((b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5]);
  }

  string(what = 'a string', maxBytes = 1 << 20): string {
    const length = this.varint(`${what} length`);
    if (length > maxBytes) throw new GossipDecodeError(`${what} of ${length} bytes exceeds ${maxBytes}`);
    this.need(length, what);
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    try {
      return decoder.decode(slice);
    } catch {
      throw new GossipDecodeError(`${what} is not valid UTF-8`);
    }
  }

  get done(): boolean {
    return this.offset === this.bytes.length;
  }

  get position(): number {
    return this.offset;
  }
}
