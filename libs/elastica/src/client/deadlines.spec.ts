import { describe, expect, it, jest } from '@jest/globals';
import { Deadlines, type Expiring } from './deadlines.js';

describe('Deadlines', () => {
  const item = (fired: string[], name: string): Expiring => ({ expire: () => fired.push(name) });

  it('fires each armed item once, never before its deadline nor later than two resolutions after, and never a disarmed one', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const deadlines = new Deadlines(10, () => Date.now());
      const fired: string[] = [];
      const a = item(fired, 'a');
      const b = item(fired, 'b');
      deadlines.arm(a, 100);
      deadlines.arm(b, 100);
      deadlines.disarm(b);
      jest.advanceTimersByTime(99);
      expect(fired).toEqual([]);
      jest.advanceTimersByTime(21);
      expect(fired).toEqual(['a']);
      jest.advanceTimersByTime(1000);
      expect(fired).toEqual(['a']);
      expect(jest.getTimerCount()).toBe(0); // the interval stops when nothing is armed
    } finally {
      jest.useRealTimers();
    }
  });

  it('an item armed mid-interval is not early, and re-arming (a stream value) restarts its wait', () => {
    jest.useFakeTimers({ now: 2_000_000 });
    try {
      const deadlines = new Deadlines(10, () => Date.now());
      const fired: string[] = [];
      const keepAlive = item(fired, 'keep');
      deadlines.arm(keepAlive, 10_000); // starts the interval
      jest.advanceTimersByTime(7);
      const c = item(fired, 'c');
      deadlines.arm(c, 50); // armed at +7: due at +57 at the earliest
      jest.advanceTimersByTime(49);
      expect(fired).toEqual([]);
      deadlines.arm(c, 50); // at +56: the wait restarts
      jest.advanceTimersByTime(50);
      expect(fired).toEqual([]);
      jest.advanceTimersByTime(20);
      expect(fired).toEqual(['c']);
      // Disarmed and re-armed within one tick: still fires once.
      const d = item(fired, 'd');
      deadlines.arm(d, 30);
      deadlines.disarm(d);
      deadlines.arm(d, 30);
      jest.advanceTimersByTime(100);
      expect(fired).toEqual(['c', 'd']);
      deadlines.disarm(keepAlive);
      deadlines.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});
