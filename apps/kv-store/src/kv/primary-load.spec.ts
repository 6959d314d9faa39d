import { describe, expect, it } from '@jest/globals';
import { entryBytes, type Versioned } from '../store/versioned.js';
import { primaryBytes } from './primary-load.js';

const v = (value: string | null): Versioned => ({ ts: { wall: 1, logical: 0, node: 'n1' }, value });

describe('primaryBytes', () => {
  it('counts the bytes of the keys this node is the first replica of, tombstones included, and no others', () => {
    const entries = new Map<string, Versioned>([
      ['mine', v('x'.repeat(300))],
      ['gone', v(null)],
      ['theirs', v('y'.repeat(900))],
    ]);
    const bytes = primaryBytes(entries, (key) => key !== 'theirs');
    expect(bytes).toBe(entryBytes('mine', entries.get('mine')!) + entryBytes('gone', entries.get('gone')!));
    expect(primaryBytes(new Map(), () => true)).toBe(0);
  });
});
