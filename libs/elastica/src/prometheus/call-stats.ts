import type { CallOutcome } from '../client/call-observer.js';

/** RPC latency buckets, in seconds: loopback calls take ~0.1-1 ms, a slow WAN hop up to seconds. */
export const RPC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface PatternStats {
  outcomes: Map<CallOutcome, number>;
  /** Per bucket (the last is +Inf), not cumulative. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/**
 * ClusterClient calls by pattern and outcome, and their latency histogram, counted in plain numbers on
 * the call path and turned into Prometheus series only when scraped: prom-client's own labelled
 * counters and histograms hash their labels on every call, which cost a fifth of the calls per second
 * at 100k calls/s on loopback (docs/benchmarks.md). Bounded: `maxPatterns` patterns, then "other".
 */
export class CallStats {
  private readonly patterns = new Map<string, PatternStats>();

  constructor(private readonly maxPatterns: number) {}

  /** The stats a call of `route` goes to (its own, or "other" past maxPatterns). */
  of(route: string): PatternStats {
    let stats = this.patterns.get(route);
    if (stats !== undefined) return stats;
    const pattern = this.patterns.size >= this.maxPatterns ? 'other' : route;
    stats = this.patterns.get(pattern);
    if (stats === undefined) {
      stats = { outcomes: new Map(), buckets: new Float64Array(RPC_BUCKETS.length + 1), sum: 0, count: 0 };
      this.patterns.set(pattern, stats);
    }
    return stats;
  }

  static record(stats: PatternStats, outcome: CallOutcome, seconds: number | undefined): void {
    stats.outcomes.set(outcome, (stats.outcomes.get(outcome) ?? 0) + 1);
    if (seconds === undefined) return;
    let i = 0;
    while (i < RPC_BUCKETS.length && seconds > RPC_BUCKETS[i]) i++;
    stats.buckets[i]++;
    stats.sum += seconds;
    stats.count++;
  }

  /** [pattern, outcome, count] for the calls counter. */
  *calls(): IterableIterator<[string, CallOutcome, number]> {
    for (const [pattern, stats] of this.patterns)
      for (const [outcome, n] of stats.outcomes) yield [pattern, outcome, n];
  }

  /** The histogram's series in prom-client's `get()` shape (cumulative buckets, +Inf, sum, count). */
  histogramValues(name: string): { labels: Record<string, string | number>; value: number; metricName: string }[] {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const [pattern, stats] of this.patterns) {
      if (stats.count === 0) continue;
      let acc = 0;
      RPC_BUCKETS.forEach((le, i) => {
        acc += stats.buckets[i];
        values.push({ labels: { le, pattern }, value: acc, metricName: `${name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', pattern }, value: stats.count, metricName: `${name}_bucket` });
      values.push({ labels: { pattern }, value: stats.sum, metricName: `${name}_sum` });
      values.push({ labels: { pattern }, value: stats.count, metricName: `${name}_count` });
    }
    return values;
  }
}
