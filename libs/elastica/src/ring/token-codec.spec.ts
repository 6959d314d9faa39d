import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { TokenEncodingError } from '../errors/token-encoding.error.js';
import { decodeTokens, encodeTokens } from './token-codec.js';

describe('token encoding', () => {
  it('round-trips any set of tokens, sorted', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 300 }),
        (tokens) => {
          expect(decodeTokens(encodeTokens(tokens))).toEqual([...tokens].sort((a, b) => a - b));
        },
      ),
    );
  });

  it('is compact: 16 tokens in under 100 characters', () => {
    expect(encodeTokens(Array.from({ length: 16 }, (_, i) => i * 2 ** 28)).length).toBeLessThan(100);
  });

  it.each([
    ['no prefix', 'AAAAAA', /start with "t1\."/],
    ['not base64url', 't1.AA+A', /base64url/],
    ['a partial token', 't1.AAAAAAA', /multiple of 4/],
    ['nothing', 't1.', /multiple of 4/],
  ])('refuses %s with a clear error', (_kind, text, message) => {
    expect(() => decodeTokens(text)).toThrow(TokenEncodingError);
    expect(() => decodeTokens(text)).toThrow(message);
  });
});
