import { LATENCY_BUCKETS_MS } from '../results/latency-histogram.ts';

/**
 * Counted runs of one series (a check at a location) over some hours, with their latency
 * histogram in the rollups' buckets (LATENCY_BUCKETS_MS). Numbers, not integers: a partly
 * maintained hour whose runs are gone counts a share of its runs (see compute-report.ts).
 */
export interface SeriesCounts {
  runs: number;
  failures: number;
  degraded: number;
  buckets: number[];
}

const BUCKETS = LATENCY_BUCKETS_MS.length;

export function emptyCounts(): SeriesCounts {
  return { runs: 0, failures: 0, degraded: 0, buckets: new Array<number>(BUCKETS).fill(0) };
}

/** Adds `from` (times `weight`) into `into`. */
export function addCounts(into: SeriesCounts, from: SeriesCounts, weight = 1): void {
  into.runs += from.runs * weight;
  into.failures += from.failures * weight;
  into.degraded += from.degraded * weight;
  for (let bucket = 0; bucket < BUCKETS; bucket++) into.buckets[bucket] += from.buckets[bucket] * weight;
}

/** `runs,failures,degraded,b0,…`: a day's summary as one string, so a month of them is one MGET per series batch. */
export function encodeCounts(counts: SeriesCounts): string {
  return [counts.runs, counts.failures, counts.degraded, ...counts.buckets].join(',');
}

/** encodeCounts read back; undefined for anything else (an older shape is recomputed, not trusted). */
export function decodeCounts(text: string | null): SeriesCounts | undefined {
  if (text === null) return undefined;
  const numbers = text.split(',').map(Number);
  if (numbers.length !== 3 + BUCKETS || numbers.some((value) => !Number.isFinite(value))) return undefined;
  return { runs: numbers[0], failures: numbers[1], degraded: numbers[2], buckets: numbers.slice(3) };
}

/**
 * The upper bound (ms) of the bucket holding the `quantile` sample of merged histograms:
 * as histogramQuantile, for counts that may carry fractions. A quantile in the open last
 * bucket (over 60 s) reads as the last bound, 60000: "at least a minute".
 */
export function countsQuantile(buckets: number[], quantile: number): number | undefined {
  const total = buckets.reduce((sum, count) => sum + count, 0);
  if (total <= 0) return undefined;
  const rank = total * quantile - 1e-9;
  let seen = 0;
  for (let bucket = 0; bucket < BUCKETS; bucket++) {
    seen += buckets[bucket];
    if (seen >= rank && buckets[bucket] > 0) return boundOf(bucket);
  }
  return boundOf(BUCKETS - 1);
}

function boundOf(bucket: number): number {
  const bound = LATENCY_BUCKETS_MS[bucket];
  return Number.isFinite(bound) ? bound : LATENCY_BUCKETS_MS[BUCKETS - 2];
}
