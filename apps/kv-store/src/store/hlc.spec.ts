import { describe, expect, it } from '@jest/globals';
import { ClockDriftError, compareTimestamps, HybridLogicalClock } from './hlc.js';

describe('HybridLogicalClock', () => {
  it('follows the wall clock when it moves forward', () => {
    const clock = new HybridLogicalClock('a', 60_000);
    expect(clock.tick(100)).toEqual({ wall: 100, logical: 0, node: 'a' });
    expect(clock.tick(250)).toEqual({ wall: 250, logical: 0, node: 'a' });
  });

  it('counts within one millisecond and while the wall clock goes backwards', () => {
    const clock = new HybridLogicalClock('a', 60_000);
    const t1 = clock.tick(100);
    const t2 = clock.tick(100);
    const t3 = clock.tick(90);
    expect(compareTimestamps(t2, t1)).toBeGreaterThan(0);
    expect(compareTimestamps(t3, t2)).toBeGreaterThan(0);
    expect(t3).toEqual({ wall: 100, logical: 2, node: 'a' });
  });

  it('stamps after a remote timestamp it observed, though its own clock is behind', () => {
    const slow = new HybridLogicalClock('slow', 60_000);
    const remote = { wall: 5000, logical: 7, node: 'fast' };
    slow.observe(remote, 1000);
    const next = slow.tick(1001);
    expect(compareTimestamps(next, remote)).toBeGreaterThan(0);
    expect(next).toEqual({ wall: 5000, logical: 8, node: 'slow' });
  });

  it('refuses a timestamp too far in the future and is unchanged by it', () => {
    const clock = new HybridLogicalClock('a', 1000);
    expect(() => clock.observe({ wall: 10_000, logical: 0, node: 'b' }, 1000)).toThrow(ClockDriftError);
    expect(() => clock.observe({ wall: 10_000, logical: 0, node: 'b' }, 1000)).toThrow(/9000 ms ahead.*at most 1000/);
    expect(clock.tick(1000)).toEqual({ wall: 1000, logical: 0, node: 'a' });
  });

  it('orders by wall, then logical, then node id', () => {
    expect(compareTimestamps({ wall: 1, logical: 9, node: 'z' }, { wall: 2, logical: 0, node: 'a' })).toBeLessThan(0);
    expect(compareTimestamps({ wall: 2, logical: 1, node: 'a' }, { wall: 2, logical: 0, node: 'z' })).toBeGreaterThan(
      0,
    );
    expect(compareTimestamps({ wall: 2, logical: 1, node: 'b' }, { wall: 2, logical: 1, node: 'a' })).toBeGreaterThan(
      0,
    );
    expect(compareTimestamps({ wall: 2, logical: 1, node: 'a' }, { wall: 2, logical: 1, node: 'a' })).toBe(0);
  });

  it('a clock restored from its kept reading stamps after it, even with the wall clock gone back', () => {
    const before = new HybridLogicalClock('a', 60_000);
    const last = before.tick(5_000_000);
    const after = new HybridLogicalClock('a', 60_000);
    after.restore({ wall: last.wall, logical: last.logical, node: 'a' });
    // An hour behind: far past the drift bound, yet a reading of its own is taken, not refused.
    expect(compareTimestamps(after.tick(5_000_000 - 3600_000), last)).toBeGreaterThan(0);
  });
});
