// How a node's tokens travel in its gossiped state (key `elastica.tokens`): "t1." then the tokens as
// big-endian uint32s in base64url. 16 tokens take 89 characters. The prefix names the encoding so a
// later version can change it without a reader mistaking one form for the other.

import { TokenEncodingError } from '../errors/token-encoding.error.js';

const PREFIX = 't1.';
/** Far beyond any sane vnode count (the option is capped at 4096); refuses absurd input before decoding it. */
const MAX_TOKENS = 65536;

/** Gossip state keys the partitioner uses (the `elastica.` prefix is reserved for the library). */
export const TOKENS_KEY = 'elastica.tokens';
export const REPLACES_KEY = 'elastica.replaces';
/** A joiner's mark: `p` / `p.<base>.<key>` while every node plans its part, `s.<base>.<key>` once its tokens are final; absent or `s` is a settled node (see JoinMark in cohort-view.ts). */
export const JOIN_KEY = 'elastica.join';
/** The load the application reported (`PartitionerService.reportLoad`), a decimal number. */
export const LOAD_KEY = 'elastica.load';
/** `elastica.handback.<nodeId>`: a peer hands a restarted node the tokens of its previous run. */
export const HANDBACK_PREFIX = 'elastica.handback.';

export function encodeTokens(tokens: ArrayLike<number>): string {
  const bytes = Buffer.alloc(tokens.length * 4);
  for (let i = 0; i < tokens.length; i++) bytes.writeUInt32BE(tokens[i], i * 4);
  return PREFIX + bytes.toString('base64url');
}

/** Decodes, sorts and de-duplicates; throws a TokenEncodingError naming what is wrong. */
export function decodeTokens(text: string): number[] {
  if (typeof text !== 'string' || !text.startsWith(PREFIX))
    throw new TokenEncodingError(
      `tokens must start with "${PREFIX}", got ${JSON.stringify(String(text).slice(0, 16))}`,
    );
  const body = text.slice(PREFIX.length);
  if (!/^[A-Za-z0-9_-]*$/.test(body)) throw new TokenEncodingError('tokens are not base64url');
  if (body.length > Math.ceil((MAX_TOKENS * 4 * 4) / 3)) throw new TokenEncodingError(`more than ${MAX_TOKENS} tokens`);
  const bytes = Buffer.from(body, 'base64url');
  if (bytes.length === 0 || bytes.length % 4 !== 0)
    throw new TokenEncodingError(`token bytes must be a non-zero multiple of 4, got ${bytes.length}`);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) out.push(bytes.readUInt32BE(i));
  return [...new Set(out)].sort((a, b) => a - b);
}
