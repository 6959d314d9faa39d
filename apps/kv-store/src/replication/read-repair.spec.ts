import { describe, expect, it } from '@jest/globals';
import type { Versioned } from '../store/versioned.js';
import { answersAgree, resolveRead } from './read-repair.js';

const v = (wall: number, value: string | null = `v${wall}`): Versioned => ({
  ts: { wall, logical: 0, node: 'n' },
  value,
});

describe('resolveRead', () => {
  it('returns the latest version and names replicas with older or no copies', () => {
    const { latest, stale } = resolveRead(
      new Map([
        ['a', v(3)],
        ['b', v(1)],
        ['c', null],
      ]),
    );
    expect(latest).toEqual(v(3));
    expect(stale.sort()).toEqual(['b', 'c']);
  });

  it('treats a tombstone as the latest version when it is, so the delete spreads', () => {
    const { latest, stale } = resolveRead(
      new Map([
        ['a', v(3)],
        ['b', v(4, null)],
      ]),
    );
    expect(latest?.value).toBeNull();
    expect(stale).toEqual(['a']);
  });

  it('has nothing to repair when no replica has the key', () => {
    expect(
      resolveRead(
        new Map([
          ['a', null],
          ['b', null],
        ]),
      ),
    ).toEqual({ latest: undefined, stale: [] });
  });
});

describe('answersAgree', () => {
  it('holds for the same version everywhere, tombstones included', () => {
    expect(
      answersAgree(
        new Map([
          ['a', v(2)],
          ['b', v(2)],
        ]),
      ),
    ).toBe(true);
    expect(
      answersAgree(
        new Map([
          ['a', v(2, null)],
          ['b', v(2, null)],
        ]),
      ),
    ).toBe(true);
  });

  it('does not hold for different versions, or for absence (a new replica may not have the key yet)', () => {
    expect(
      answersAgree(
        new Map([
          ['a', v(2)],
          ['b', v(3)],
        ]),
      ),
    ).toBe(false);
    expect(
      answersAgree(
        new Map([
          ['a', v(2)],
          ['b', null],
        ]),
      ),
    ).toBe(false);
    expect(
      answersAgree(
        new Map([
          ['a', null],
          ['b', null],
        ]),
      ),
    ).toBe(false);
  });
});
