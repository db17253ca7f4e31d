import type { Redis } from 'ioredis';
import { bucketIndex, histogramQuantile, LATENCY_BUCKETS_MS } from './latency-histogram.ts';
import type { RunResult } from './run-result.ts';

const HOUR_MS = 3_600_000;

export interface HourlyRollup {
  hour: number;
  count: number;
  failures: number;
  degraded: number;
  p50?: number;
  p95?: number;
  p99?: number;
}

/**
 * Hourly rollups per check × location (count, failures, latency histogram) and schedule
 * lag per location, each an expiring hash: bounded by rollupDays, whatever the traffic.
 */
export class RollupStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly keepDays: number,
  ) {}

  private hourOf(at: number): number {
    return at - (at % HOUR_MS);
  }

  async record(result: RunResult): Promise<void> {
    const hour = this.hourOf(result.startedAt);
    const key = `${this.prefix}:rollup:${result.checkId}:${result.location}:${hour}`;
    const lagKey = `${this.prefix}:lag:${result.location}:${hour}`;
    const ttl = this.keepDays * 86_400;
    const multi = this.redis
      .multi()
      .hincrby(key, 'count', 1)
      .hincrby(key, `b${bucketIndex(result.phases.total)}`, 1)
      .expire(key, ttl);
    if (result.status === 'fail') multi.hincrby(key, 'failures', 1);
    if (result.status === 'degraded') multi.hincrby(key, 'degraded', 1);
    if (result.scheduledAt !== undefined) {
      multi
        .hincrby(lagKey, `b${bucketIndex(Math.max(0, result.startedAt - result.scheduledAt))}`, 1)
        .expire(lagKey, ttl);
    }
    await multi.exec();
  }

  async hourly(checkId: string, location: string, hours: number, now = Date.now()): Promise<HourlyRollup[]> {
    const current = this.hourOf(now);
    const starts = Array.from({ length: hours }, (_, index) => current - (hours - 1 - index) * HOUR_MS);
    const rows = await Promise.all(
      starts.map((hour) => this.redis.hgetall(`${this.prefix}:rollup:${checkId}:${location}:${hour}`)),
    );
    return rows.map((fields, index) => {
      const counts = LATENCY_BUCKETS_MS.map((_, bucket) => Number(fields[`b${bucket}`] ?? 0));
      return {
        hour: starts[index],
        count: Number(fields.count ?? 0),
        failures: Number(fields.failures ?? 0),
        degraded: Number(fields.degraded ?? 0),
        p50: histogramQuantile(counts, 0.5),
        p95: histogramQuantile(counts, 0.95),
        p99: histogramQuantile(counts, 0.99),
      };
    });
  }

  /** Schedule-lag histogram counts of a location for the current hour. */
  async lagBuckets(location: string, now = Date.now()): Promise<number[]> {
    const fields = await this.redis.hgetall(`${this.prefix}:lag:${location}:${this.hourOf(now)}`);
    return LATENCY_BUCKETS_MS.map((_, bucket) => Number(fields[`b${bucket}`] ?? 0));
  }
}
