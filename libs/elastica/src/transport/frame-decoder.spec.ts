import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FrameTooLargeError, MalformedFrameError } from '../errors/elastica-error.js';
import { FrameDecoder } from './frame-decoder.js';

const MAX = 4096;

function framed(bodies: Uint8Array[]): Buffer {
  return Buffer.concat(
    bodies.map((body) => {
      const prefix = Buffer.alloc(4);
      prefix.writeUInt32BE(body.length, 0);
      return Buffer.concat([prefix, body]);
    }),
  );
}

/** Cuts a buffer at the given (sorted, deduplicated) offsets. */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((x, y) => x - y);
  const pieces: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    pieces.push(bytes.subarray(from, p));
    from = p;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

const body = fc.uint8Array({ minLength: 1, maxLength: 300 });

describe('FrameDecoder', () => {
  it('returns exactly the frames sent, however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(body, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (bodies, at) => {
        const decoder = new FrameDecoder(MAX);
        const out: number[][] = [];
        for (const piece of cut(framed(bodies), at)) decoder.push(piece, (frame) => out.push([...frame]));
        expect(out).toEqual(bodies.map((b) => [...b]));
        expect(decoder.bufferedBytes).toBe(0);
      }),
    );
  });

  it('on random bytes, either yields frames or fails with a framing error, never buffering past one frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, at) => {
        const decoder = new FrameDecoder(MAX);
        try {
          for (const piece of cut(Buffer.from(bytes), at)) {
            decoder.push(piece, (frame) => {
              expect(frame.length).toBeGreaterThan(0);
              expect(frame.length).toBeLessThanOrEqual(MAX);
            });
            expect(decoder.bufferedBytes).toBeLessThanOrEqual(MAX + 4);
          }
        } catch (error) {
          expect(error instanceof FrameTooLargeError || error instanceof MalformedFrameError).toBe(true);
        }
      }),
    );
  });

  it('holds a truncated frame back until its last byte arrives', () => {
    fc.assert(
      fc.property(body, (b) => {
        const bytes = framed([b]);
        const decoder = new FrameDecoder(MAX);
        const out: Buffer[] = [];
        decoder.push(bytes.subarray(0, bytes.length - 1), (f) => out.push(f));
        expect(out).toHaveLength(0);
        expect(decoder.bufferedBytes).toBeLessThan(bytes.length);
        decoder.push(bytes.subarray(bytes.length - 1), (f) => out.push(f));
        expect(out.map((f) => [...f])).toEqual([[...b]]);
      }),
    );
  });

  it('refuses a huge length prefix as soon as the 4 bytes are in, holding none of it', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX + 1, max: 0xffffffff }), fc.integer({ min: 1, max: 3 }), (length, split) => {
        const prefix = Buffer.alloc(4);
        prefix.writeUInt32BE(length, 0);
        const decoder = new FrameDecoder(MAX);
        decoder.push(prefix.subarray(0, split), () => undefined);
        expect(() => decoder.push(prefix.subarray(split), () => undefined)).toThrow(FrameTooLargeError);
        expect(decoder.bufferedBytes).toBe(0);
        expect(() => decoder.push(Buffer.from([1]), () => undefined)).toThrow(MalformedFrameError);
      }),
    );
  });

  it('refuses an empty frame (no type byte)', () => {
    expect(() => new FrameDecoder(MAX).push(Buffer.from([0, 0, 0, 0]), () => undefined)).toThrow(/empty frame/);
  });
});
