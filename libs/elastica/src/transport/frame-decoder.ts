import { FrameTooLargeError, MalformedFrameError } from '../errors/elastica-error.js';

/** Bytes of the length prefix in front of every frame (big-endian uint32, the body's length). */
export const PREFIX_BYTES = 4;

/**
 * Splits a byte stream into frames. Pure: bytes in, frames out. A frame's declared length is checked
 * against the limit as soon as its 4-byte prefix is known, so an oversized frame is refused before a
 * single byte of its body is buffered or allocated. Frames that lie inside one chunk are returned as
 * views of it (no copy); only a frame spread over chunks is assembled.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame being assembled, once its prefix is read; -1 before. */
  private expected = -1;
  private failed = false;

  constructor(private maxFrameBytes: number) {}

  /** The current limit. A connection starts with a small one (handshake) and raises it once the peer is admitted. */
  get limit(): number {
    return this.maxFrameBytes;
  }

  /** Takes effect from the next length prefix read, even within the chunk being decoded. */
  set limit(bytes: number) {
    this.maxFrameBytes = bytes;
  }

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feeds bytes; calls `onFrame` for each complete frame body. Throws on a bad prefix, after which the decoder is dead. */
  push(chunk: Buffer, onFrame: (body: Buffer) => void): void {
    if (this.failed) throw new MalformedFrameError('decoder used after a framing error');
    let offset = 0;
    // Fast path: nothing pending, whole frames lie in this chunk.
    if (this.buffered === 0 && this.expected < 0) {
      while (chunk.length - offset >= PREFIX_BYTES) {
        const length = this.check(chunk.readUInt32BE(offset));
        if (chunk.length - offset - PREFIX_BYTES < length) break;
        const start = offset + PREFIX_BYTES;
        offset = start + length;
        onFrame(chunk.subarray(start, offset));
      }
      if (offset === chunk.length) return;
      chunk = chunk.subarray(offset);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    this.drain(onFrame);
  }

  private drain(onFrame: (body: Buffer) => void): void {
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < PREFIX_BYTES) return;
        this.expected = this.check(this.take(PREFIX_BYTES).readUInt32BE(0));
      }
      if (this.buffered < this.expected) return;
      const body = this.take(this.expected);
      this.expected = -1;
      onFrame(body);
    }
  }

  private check(length: number): number {
    if (length > this.maxFrameBytes) {
      this.fail();
      throw new FrameTooLargeError(length, this.maxFrameBytes);
    }
    if (length === 0) {
      this.fail();
      throw new MalformedFrameError('empty frame (a frame has at least its type byte)');
    }
    return length;
  }

  /** Drops whatever is held (the connection is gone); the decoder is dead afterwards. */
  discard(): void {
    this.fail();
  }

  private fail(): void {
    this.failed = true;
    this.chunks = [];
    this.buffered = 0;
  }

  /** Removes exactly n buffered bytes (n <= buffered), copying only when they span chunks. */
  private take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const head = this.chunks[0];
        const need = n - filled;
        if (head.length <= need) {
          head.copy(out, filled);
          filled += head.length;
          this.chunks.shift();
        } else {
          head.copy(out, filled, 0, need);
          filled += need;
          this.chunks[0] = head.subarray(need);
        }
      }
    }
    this.buffered -= n;
    return out;
  }
}
