/**
 * Something with a deadline that fires at most once. The optional fields are Deadlines' bookkeeping,
 * kept on the item itself so that arming and disarming look nothing up.
 */
export interface Expiring {
  expire(): void;
  deadlineSlot?: number;
  deadlineTimeoutMs?: number;
  deadlineListed?: boolean;
}

/** Where an armed item is: not armed, armed since the last tick (no deadline yet), or in a bucket. */
const IDLE = -1;
const FRESH = -2;

/**
 * Call timeouts without a timer per call, and without a clock read or a hash-set insert per call:
 * at hundreds of thousands of calls per second those cost more than the rest of a call's client side.
 *
 * Arming only appends the item to a `fresh` list. One unref'd interval (running only while something
 * is armed) reads the clock once per `resolutionMs`: items armed since the previous tick get their
 * deadline from that reading (at or after the moment they were armed, so never early), and go into
 * a bucket of `resolutionMs`; due buckets fire. Most calls are answered before the next tick and never
 * leave the fresh list; disarming them is a field write (the tick skips them). A timeout therefore
 * fires between its deadline and two resolutions after it.
 */
export class Deadlines {
  private readonly buckets = new Map<number, Set<Expiring>>();
  /** Items armed since the last tick; entries disarmed meanwhile are skipped (their slot says so). */
  private fresh: Expiring[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armed = 0;

  constructor(
    private readonly resolutionMs = 10,
    private readonly now: () => number = Date.now,
  ) {}

  /** Arms (or re-arms, e.g. on each value of a stream) the item's timeout. */
  arm(item: Expiring, timeoutMs: number): void {
    this.disarm(item);
    item.deadlineSlot = FRESH;
    item.deadlineTimeoutMs = timeoutMs;
    // Already listed if it was disarmed and re-armed since the last tick: one entry is enough.
    if (!item.deadlineListed) {
      item.deadlineListed = true;
      this.fresh.push(item);
    }
    this.armed++;
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.resolutionMs);
      this.timer.unref();
    }
  }

  disarm(item: Expiring): void {
    const slot = item.deadlineSlot;
    if (slot === IDLE || slot === undefined) return;
    item.deadlineSlot = IDLE;
    this.armed--;
    if (slot === FRESH) return;
    const bucket = this.buckets.get(slot);
    if (bucket?.delete(item) && bucket.size === 0) this.buckets.delete(slot);
  }

  private tick(): void {
    const now = this.now();
    const fresh = this.fresh;
    this.fresh = [];
    for (const item of fresh) {
      item.deadlineListed = false;
      if (item.deadlineSlot !== FRESH) continue;
      const key = Math.ceil((now + item.deadlineTimeoutMs!) / this.resolutionMs);
      let bucket = this.buckets.get(key);
      if (!bucket) {
        bucket = new Set();
        this.buckets.set(key, bucket);
      }
      bucket.add(item);
      item.deadlineSlot = key;
    }
    const due = Math.floor(now / this.resolutionMs);
    for (const [key, bucket] of this.buckets) {
      if (key > due) continue;
      this.buckets.delete(key);
      for (const item of bucket) {
        item.deadlineSlot = IDLE;
        this.armed--;
        item.expire();
      }
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
