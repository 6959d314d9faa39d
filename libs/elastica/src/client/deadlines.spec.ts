import { describe, expect, it, jest } from '@jest/globals';
import { Deadlines } from './deadlines.js';

describe('Deadlines', () => {
  it('fires each armed item once, within one resolution after its deadline, and never a disarmed one', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    try {
      const deadlines = new Deadlines(10, () => Date.now());
      const fired: string[] = [];
      const item = (name: string) => ({ expire: () => fired.push(name) });
      const a = item('a');
      const b = item('b');
      deadlines.arm(a, 100);
      const keyB = deadlines.arm(b, 100);
      deadlines.disarm(b, keyB);
      jest.advanceTimersByTime(99);
      expect(fired).toEqual([]);
      jest.advanceTimersByTime(11);
      expect(fired).toEqual(['a']);
      jest.advanceTimersByTime(1000);
      expect(fired).toEqual(['a']);
      expect(jest.getTimerCount()).toBe(0); // the interval stops when nothing is armed
    } finally {
      jest.useRealTimers();
    }
  });
});
