import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** Resident set size of a process, in bytes (Linux /proc; `ps` elsewhere); undefined when it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    if (kb !== undefined) return Number(kb) * 1024;
  } catch {
    // not Linux, or gone
  }
  try {
    const kb = execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface RssTrend {
  /** Median RSS (MB) over the second quarter of the run: warmed up, mid-run. */
  second_quarter_mb: number;
  /** Median RSS (MB) over the last quarter. */
  last_quarter_mb: number;
  /** last − second quarter: how much memory still grew over the second half. Medians, so one GC
   *  sawtooth does not decide it. */
  growth_second_half_mb: number;
  /** The same growth over the first half (first sample → second quarter), warm-up included. */
  growth_first_half_mb: number;
}

/** How RSS moved over a run, from samples taken at a steady pace (at least 8). */
export function rssTrend(samplesMb: number[]): RssTrend {
  if (samplesMb.length < 8) throw new Error(`need at least 8 RSS samples to see a trend, got ${samplesMb.length}`);
  const q = samplesMb.length / 4;
  const second = median(samplesMb.slice(Math.floor(q), Math.floor(2 * q)));
  const last = median(samplesMb.slice(Math.floor(3 * q)));
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    second_quarter_mb: round(second),
    last_quarter_mb: round(last),
    growth_second_half_mb: round(last - second),
    growth_first_half_mb: round(second - samplesMb[0]),
  };
}
