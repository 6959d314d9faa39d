// fast-check generators shared by the ring's property tests.
import fc from 'fast-check';
import type { RingMember } from '../ring.types.js';

const MAX = 2 ** 32 - 1;
/** Mostly random tokens, sometimes edge values, so collisions and wrap-around get exercised. */
export const tokenArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: MAX }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, MAX - 1, MAX, 2 ** 31, 777) },
);
export const statusArb = fc.constantFrom('joining', 'up', 'up', 'up', 'down', 'leaving', 'left');

export const membersArb = (opts: { minMembers?: number; maxMembers?: number; owning?: boolean } = {}) =>
  fc.uniqueArray(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 6 }),
      status: opts.owning ? fc.constantFrom('up', 'leaving') : statusArb,
      tokens: fc.uniqueArray(tokenArb, { minLength: 1, maxLength: 8 }),
    }),
    { selector: (m) => m.id, minLength: opts.minMembers ?? 0, maxLength: opts.maxMembers ?? 12 },
  ) as fc.Arbitrary<RingMember[]>;
