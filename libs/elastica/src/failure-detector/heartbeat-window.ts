/**
 * A bounded sliding window of inter-arrival intervals with running sums, so mean and deviation cost
 * O(1) per heartbeat and per phi. The sums are recomputed exactly once per full turn of the ring
 * buffer, which keeps floating-point drift from add/subtract pairs from growing without bound while
 * staying amortized O(1).
 */
export class HeartbeatWindow {
  private readonly samples: Float64Array;
  private start = 0;
  private count = 0;
  private sum = 0;
  private sumOfSquares = 0;
  private sinceExactSum = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity <= 0)
      throw new RangeError(`window capacity must be a positive integer, got ${capacity}`);
    this.samples = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  add(interval: number): void {
    if (this.count === this.capacity) {
      const evicted = this.samples[this.start];
      this.samples[this.start] = interval;
      this.start = (this.start + 1) % this.capacity;
      this.sum += interval - evicted;
      this.sumOfSquares += interval * interval - evicted * evicted;
    } else {
      this.samples[(this.start + this.count) % this.capacity] = interval;
      this.count++;
      this.sum += interval;
      this.sumOfSquares += interval * interval;
    }
    if (++this.sinceExactSum >= this.capacity) this.recomputeSums();
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** Population variance, clamped at 0 against cancellation error. */
  get variance(): number {
    if (this.count === 0) return 0;
    const mean = this.sum / this.count;
    return Math.max(0, this.sumOfSquares / this.count - mean * mean);
  }

  get stdDeviation(): number {
    return Math.sqrt(this.variance);
  }

  clear(): void {
    this.start = 0;
    this.count = 0;
    this.sum = 0;
    this.sumOfSquares = 0;
    this.sinceExactSum = 0;
  }

  private recomputeSums(): void {
    let sum = 0;
    let sumOfSquares = 0;
    for (let i = 0; i < this.count; i++) {
      const value = this.samples[(this.start + i) % this.capacity];
      sum += value;
      sumOfSquares += value * value;
    }
    this.sum = sum;
    this.sumOfSquares = sumOfSquares;
    this.sinceExactSum = 0;
  }
}
