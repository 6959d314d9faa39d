/** Something with a deadline that fires at most once. */
export interface Expiring {
  expire(): void;
}

/**
 * Call timeouts without a timer per call: deadlines are kept in buckets of `resolutionMs` and one
 * unref'd interval (running only while something is armed) fires the due buckets. A timeout fires
 * between its deadline and one resolution after it. Arming and disarming are a Set add/delete, which
 * matters at hundreds of thousands of calls per second.
 */
export class Deadlines {
  private readonly buckets = new Map<number, Set<Expiring>>();
  private timer: NodeJS.Timeout | undefined;
  private armed = 0;

  constructor(private readonly resolutionMs = 10, private readonly now: () => number = Date.now) {}

  /** Returns the bucket key, needed to disarm. */
  arm(item: Expiring, timeoutMs: number): number {
    const key = Math.ceil((this.now() + timeoutMs) / this.resolutionMs);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(key, bucket);
    }
    bucket.add(item);
    this.armed++;
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.resolutionMs);
      this.timer.unref();
    }
    return key;
  }

  disarm(item: Expiring, key: number): void {
    const bucket = this.buckets.get(key);
    if (bucket?.delete(item)) {
      this.armed--;
      if (bucket.size === 0) this.buckets.delete(key);
    }
  }

  private tick(): void {
    const due = Math.floor(this.now() / this.resolutionMs);
    for (const [key, bucket] of this.buckets) {
      if (key > due) continue;
      this.buckets.delete(key);
      this.armed -= bucket.size;
      for (const item of bucket) item.expire();
    }
    if (this.armed === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
