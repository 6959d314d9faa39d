/** Wall-clock time in ms. Services take it as a provider so tests can drive time; pure cores take numbers. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
