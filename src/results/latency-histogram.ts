/** Upper bounds (ms) of the latency buckets kept per hour; the last is unbounded. */
export const LATENCY_BUCKETS_MS = [
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10_000,
  30_000,
  60_000,
  Number.POSITIVE_INFINITY,
];

export function bucketIndex(ms: number): number {
  return LATENCY_BUCKETS_MS.findIndex((bound) => ms <= bound);
}

/**
 * The bucket bound at or below which `quantile` of the samples fall: percentiles from a
 * fixed-size histogram, so an hour's rollup stays a few fields whatever the run count.
 */
export function histogramQuantile(counts: number[], quantile: number): number | undefined {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return undefined;
  const rank = Math.ceil(total * quantile);
  let seen = 0;
  for (const [index, count] of counts.entries()) {
    seen += count;
    if (seen >= rank) return LATENCY_BUCKETS_MS[index];
  }
  return LATENCY_BUCKETS_MS.at(-1);
}
