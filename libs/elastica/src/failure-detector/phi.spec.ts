import { describe, expect, it } from '@jest/globals';
import { phiExponential, phiNormal } from './phi.js';

describe('phiNormal', () => {
  it("matches Akka's published vectors (mean 1000 ms, deviation 100 ms)", () => {
    const vectors: [number, number][] = [
      [0, 0.0],
      [500, 0.1],
      [1000, 0.3],
      [1200, 1.6],
      [1400, 4.7],
      [1600, 10.8],
      [1700, 15.3],
    ];
    for (const [dt, expected] of vectors) {
      expect(Math.abs(phiNormal(dt, 1000, 100) - expected)).toBeLessThanOrEqual(0.1);
    }
  });

  it('stays finite at the extremes where the textbook form overflows', () => {
    expect(phiNormal(1e9, 1000, 100)).toBeGreaterThan(1e6);
    expect(Number.isFinite(phiNormal(1e9, 1000, 100))).toBe(true);
    expect(phiNormal(-1e9, 1000, 100)).toBe(0);
  });
});

describe('phiExponential', () => {
  it('is 0.4343 at dt = mean', () => {
    expect(phiExponential(1000, 1000)).toBeCloseTo(0.4343, 4);
  });
  it('is 9.566 at dt = 22.03 x mean', () => {
    expect(phiExponential(22.03 * 1000, 1000)).toBeCloseTo(9.566, 2);
  });
  it('is 0 for no silence', () => {
    expect(phiExponential(0, 1000)).toBe(0);
  });
});
