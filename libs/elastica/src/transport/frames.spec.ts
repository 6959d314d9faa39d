import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MalformedFrameError } from '../errors/elastica-error.js';
import {
  decodeFrame,
  encodeError,
  encodeEvent,
  encodeGossip,
  encodeHello,
  encodeId,
  encodeRefuse,
  encodeRequest,
  encodeTracedRequest,
  encodeValue,
  FrameType,
  MAX_TRACE_CONTEXT_BYTES,
} from './frames.js';
import { roundTrip } from './payload-codec.js';

/** The body of an encoded frame, as the decoder hands it over. */
const body = (frame: Buffer) => frame.subarray(4);

describe('frames', () => {
  it('carries a trace context in a traced request (protocol 2), decoded as a request with trace', () => {
    const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\nvendor=abc';
    for (const data of ['text', { key: 'k' }])
      expect(decodeFrame(body(encodeTracedRequest(9, 'kv.put', data, trace)))).toEqual({
        type: FrameType.Request,
        id: 9,
        pattern: 'kv.put',
        data,
        trace,
      });
    // Too big a context is dropped, never the call.
    expect(decodeFrame(body(encodeTracedRequest(9, 'p', 1, 'x'.repeat(MAX_TRACE_CONTEXT_BYTES + 1))))).toEqual({
      type: FrameType.Request,
      id: 9,
      pattern: 'p',
      data: 1,
    });
    const unprintable = encodeTracedRequest(9, 'p', 1, 'a\u0001b');
    expect(() => decodeFrame(body(unprintable))).toThrow(MalformedFrameError);
    const truncated = body(encodeTracedRequest(9, 'p', 1, trace)).subarray(0, 20);
    expect(() => decodeFrame(truncated)).toThrow(MalformedFrameError);
  });

  it('round-trips every traffic frame', () => {
    expect(decodeFrame(body(encodeRequest(7, 'kv.get', { key: 'k' })))).toEqual({
      type: FrameType.Request,
      id: 7,
      pattern: 'kv.get',
      data: { key: 'k' },
    });
    expect(decodeFrame(body(encodeEvent('kv.inv', 'k')))).toEqual({
      type: FrameType.Event,
      pattern: 'kv.inv',
      data: 'k',
    });
    expect(decodeFrame(body(encodeValue(FrameType.Next, 0xffffffff, [1, 2])))).toEqual({
      type: FrameType.Next,
      id: 0xffffffff,
      data: [1, 2],
    });
    expect(decodeFrame(body(encodeValue(FrameType.Reply, 1, undefined)))).toEqual({
      type: FrameType.Reply,
      id: 1,
      data: undefined,
    });
    expect(decodeFrame(body(encodeId(FrameType.Cancel, 9)))).toEqual({ type: FrameType.Cancel, id: 9 });
    expect(decodeFrame(body(encodeError(3, new TypeError('bad'))))).toEqual({
      type: FrameType.Error,
      id: 3,
      error: { name: 'TypeError', message: 'bad' },
    });
    expect(decodeFrame(body(encodeRefuse('cluster', 'wrong cluster')))).toEqual({
      type: FrameType.Refuse,
      reason: 'cluster',
      message: 'wrong cluster',
    });
    const gossip = decodeFrame(body(encodeGossip(new Uint8Array([1, 2, 3]))));
    expect(gossip.type === FrameType.Gossip && [...gossip.bytes]).toEqual([1, 2, 3]);
    const hello = decodeFrame(body(encodeHello(1, { a: 1 })));
    expect(hello.type === FrameType.Hello && [hello.version, JSON.parse(hello.body.toString())]).toEqual([1, { a: 1 }]);
  });

  it('keeps payloads as JSON would, with strings, binary and undefined carried raw', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(roundTrip(value)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
    expect(roundTrip('plain "text" é')).toBe('plain "text" é');
    expect([...(roundTrip(new Uint8Array([0, 255])) as Buffer)]).toEqual([0, 255]);
    expect(roundTrip(undefined)).toBeUndefined();
  });

  it('turns any body into a frame or a MalformedFrameError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        try {
          decodeFrame(Buffer.from(bytes));
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedFrameError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('carries any pattern exactly, however many share the decoded-pattern cache (same length, same ends)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 80 }), { minLength: 1, maxLength: 40 }),
        (patterns) => {
          for (const pattern of [...patterns, ...patterns]) {
            const request = decodeFrame(body(encodeRequest(1, pattern, null)));
            expect(request.type === FrameType.Request && request.pattern).toBe(pattern);
            const event = decodeFrame(body(encodeEvent(pattern, null)));
            expect(event.type === FrameType.Event && event.pattern).toBe(pattern);
          }
        },
      ),
    );
    for (const pattern of ['a.xa', 'a.ya', 'a.ya', 'a.xa', 'é.é', 'kv.get']) {
      const request = decodeFrame(body(encodeRequest(1, pattern, 'v')));
      expect(request.type === FrameType.Request && request.pattern).toBe(pattern);
    }
  });

  it('refuses a truncated request', () => {
    const frame = body(encodeRequest(1, 'pattern', 'data'));
    for (let n = 1; n < 14; n++) expect(() => decodeFrame(frame.subarray(0, n))).toThrow(MalformedFrameError);
  });
});
