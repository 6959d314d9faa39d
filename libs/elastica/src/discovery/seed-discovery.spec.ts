import { describe, expect, it } from '@jest/globals';
import { SeedDiscovery } from './seed-discovery.js';
import type { SeedResolver } from './seed-resolver.js';

/** A resolver whose answers the test sets, counting lookups; time is the test's. */
function lab() {
  const state = { now: 0, lookups: 0, answer: { addresses: ['10.0.0.1:7000'], failed: 0 } };
  const handed: string[][] = [];
  const resolver = {
    resolve: () => {
      state.lookups++;
      return Promise.resolve(state.answer);
    },
  } as unknown as SeedResolver;
  const discovery = new SeedDiscovery(
    resolver,
    { retryMinMs: 1000, retryMaxMs: 30_000 },
    (a) => handed.push(a),
    () => state.now,
  );
  /** One gossip round at `at` ms; lets the lookup's promise settle. */
  const round = async (at: number, retries: number, joining: boolean) => {
    state.now = at;
    discovery.round(retries, joining);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { state, handed, round };
}

describe('SeedDiscovery (when seeds are looked up)', () => {
  it('looks up at start, every retryMinMs while joining, at each seed retry, and every retryMaxMs once in a cluster', async () => {
    const { state, handed, round } = lab();
    await round(0, 0, true);
    expect(state.lookups).toBe(1);
    await round(500, 0, true);
    expect(state.lookups).toBe(1);
    await round(1000, 0, true);
    expect(state.lookups).toBe(2);
    // In a cluster: not again for retryMaxMs, unless the core retries its seeds.
    await round(2000, 0, false);
    expect(state.lookups).toBe(2);
    await round(2100, 1, false);
    expect(state.lookups).toBe(3);
    await round(20_000, 1, false);
    expect(state.lookups).toBe(3);
    await round(32_100, 1, false);
    expect(state.lookups).toBe(4);
    expect(handed).toHaveLength(4);
  });

  it('after a failed lookup backs off (doubling), keeps the last good answer, and starts over once it succeeds', async () => {
    const { state, handed, round } = lab();
    await round(0, 0, true);
    state.answer = { addresses: [], failed: 1 };
    const at: number[] = [];
    for (let t = 1000; t <= 20_000; t += 100) {
      const before = state.lookups;
      await round(t, 0, true);
      if (state.lookups > before) at.push(t);
    }
    // 1000 (the joining rule), then backoffs of 1 s, 2 s, 4 s, 8 s.
    expect(at).toEqual([1000, 2000, 4000, 8000, 16_000]);
    expect(handed).toEqual([['10.0.0.1:7000']]); // nothing replaced the good answer
    state.answer = { addresses: ['10.0.0.2:7000'], failed: 0 };
    await round(32_000, 0, true);
    await round(33_000, 0, true);
    expect(handed.at(-1)).toEqual(['10.0.0.2:7000']);
    expect(state.lookups).toBe(at.length + 3);
  });

  it('a partial failure still hands over what was found', async () => {
    const { state, handed, round } = lab();
    state.answer = { addresses: ['10.0.0.3:7000'], failed: 1 };
    await round(0, 0, true);
    expect(handed).toEqual([['10.0.0.3:7000']]);
  });
});
