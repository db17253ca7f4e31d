import type { Redis } from 'ioredis';
import { RedisKeyspace } from '../redis/redis-keyspace.ts';
import { bucketIndex, histogramQuantile, LATENCY_BUCKETS_MS } from './latency-histogram.ts';
import { type RedisStep, runSteps } from './redis-step.ts';
import type { RunResult } from './run-result.ts';

const HOUR_MS = 3_600_000;

/**
 * One run's counts, a step (see runSteps) rather than a MULTI of up to seven commands,
 * which cost the worker more CPU than Redis spends. KEYS: the series' hour, the location's lag hour.
 * ARGV: TTL s, latency bucket field, `failures`/`degraded`/empty, lag bucket field or empty.
 */
const COUNT_RUN = `
redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[1], ARGV[3], 1) end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if ARGV[4] ~= '' then
  redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return 1
`;

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
export class RollupStore extends RedisKeyspace {
  constructor(
    redis: Redis,
    prefix: string,
    private readonly keepDays: number,
  ) {
    super(redis, prefix);
  }

  private hourOf(at: number): number {
    return at - (at % HOUR_MS);
  }

  async record(result: RunResult): Promise<void> {
    await runSteps(this.redis, [this.countStep(result)]);
  }

  /** The step that counts `result` in its hour (see COUNT_RUN). */
  countStep(result: RunResult): RedisStep {
    const hour = this.hourOf(result.startedAt);
    return {
      name: 'count-run',
      lua: COUNT_RUN,
      keys: [
        this.keyOf('rollup', result.checkId, result.location, hour),
        this.keyOf('lag', result.location, hour),
      ],
      args: [
        this.keepDays * 86_400,
        `b${bucketIndex(result.phases.total)}`,
        result.status === 'fail' ? 'failures' : result.status === 'degraded' ? 'degraded' : '',
        result.scheduledAt === undefined
          ? ''
          : `b${bucketIndex(Math.max(0, result.startedAt - result.scheduledAt))}`,
      ],
    };
  }

  async hourly(checkId: string, location: string, hours: number, now = Date.now()): Promise<HourlyRollup[]> {
    const current = this.hourOf(now);
    const starts = Array.from({ length: hours }, (_, index) => current - (hours - 1 - index) * HOUR_MS);
    const rows = await Promise.all(
      starts.map((hour) => this.redis.hgetall(this.keyOf('rollup', checkId, location, hour))),
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

  /**
   * Runs and failures per hour of the last `hours` for many check × location pairs, in one
   * pipeline of two fields each (not the histograms): what a status page's sparklines need,
   * for a thousand checks in one round trip's worth of work.
   */
  async hourlyCounts(
    pairs: Array<{ checkId: string; location: string }>,
    hours: number,
    now = Date.now(),
  ): Promise<Array<Array<{ count: number; failures: number }>>> {
    const current = this.hourOf(now);
    const starts = Array.from({ length: hours }, (_, index) => current - (hours - 1 - index) * HOUR_MS);
    const pipeline = this.redis.pipeline();
    for (const { checkId, location } of pairs) {
      for (const hour of starts)
        pipeline.hmget(this.keyOf('rollup', checkId, location, hour), 'count', 'failures');
    }
    const replies = (await pipeline.exec()) ?? [];
    return pairs.map((_, pairIndex) =>
      starts.map((_, hourIndex) => {
        const [, value] = replies[pairIndex * hours + hourIndex] ?? [];
        const [count, failures] = (value as Array<string | null> | undefined) ?? [];
        return { count: Number(count ?? 0), failures: Number(failures ?? 0) };
      }),
    );
  }

  /** Schedule-lag histogram counts of a location for the current hour. */
  async lagBuckets(location: string, now = Date.now()): Promise<number[]> {
    const fields = await this.redis.hgetall(this.keyOf('lag', location, this.hourOf(now)));
    return LATENCY_BUCKETS_MS.map((_, bucket) => Number(fields[`b${bucket}`] ?? 0));
  }
}
