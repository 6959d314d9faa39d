import { describe, expect, it } from '@jest/globals';
import { REPLACES_KEY, TOKENS_KEY } from 'elastica';
import { countRingMembers, type MemberLike } from './ring-members.js';

const owning = (id: string, status: string, extra: Record<string, string> = {}): MemberLike => ({
  id,
  status,
  state: { [TOKENS_KEY]: 'tokens', ...extra },
});

describe('countRingMembers', () => {
  it('counts members that own ranges, down ones included', () => {
    expect(countRingMembers([owning('a', 'up'), owning('b', 'down'), owning('c', 'down')], ['a'])).toBe(3);
    expect(countRingMembers([owning('a', 'up'), owning('b', 'leaving')], ['a', 'b'])).toBe(2);
    // Just convicted, the partitioner has not rebuilt yet: still on the ring, counted once.
    expect(countRingMembers([owning('a', 'up'), owning('b', 'down')], ['a', 'b'])).toBe(2);
  });

  it('leaves out members that left, that have no tokens yet, or that are joining', () => {
    expect(
      countRingMembers(
        [
          owning('a', 'up'),
          owning('gone', 'left'),
          { id: 'new', status: 'up', state: {} },
          { id: 'restarted', status: 'joining', state: {} },
          owning('starting', 'joining'),
        ],
        ['a'],
      ),
    ).toBe(1);
  });

  it('does not count a down member another node has replaced', () => {
    expect(
      countRingMembers(
        [owning('a', 'up'), owning('dead', 'down'), owning('b', 'up', { [REPLACES_KEY]: 'dead' })],
        ['a', 'b'],
      ),
    ).toBe(2);
  });

  it('counts a live node only once the ring has it, as the replicas do (tokens just gossiped, ring not rebuilt yet)', () => {
    expect(countRingMembers([owning('a', 'up'), owning('b', 'up'), owning('c', 'up')], ['a', 'b'])).toBe(2);
  });
});
