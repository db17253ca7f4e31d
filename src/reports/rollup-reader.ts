import type { Redis } from 'ioredis';
import { LATENCY_BUCKETS_MS } from '../results/latency-histogram.ts';
import { DAY_MS } from './report-window.ts';
import { decodeCounts, encodeCounts, type SeriesCounts } from './series-counts.ts';

/** Keys read per script call: each call holds Redis for about a millisecond. */
const KEYS_PER_READ = 1000;
/** Keys per MGET. */
const MGET_CHUNK = 1000;
/** Commands per pipeline: bounds what one round trip holds in memory on both ends. */
const PIPELINE_CHUNK = 5000;

/** Fields of an hourly rollup in the order sums() answers them: count, failures, degraded, b0…b13. */
const FIELDS = ['count', 'failures', 'degraded', ...LATENCY_BUCKETS_MS.map((_, bucket) => `b${bucket}`)];

/**
 * Sums of groups of hourly rollups, added up in Redis: a month of hours is a million and a
 * half hashes, and a reply each costs the client far more than Redis spends reading them.
 * KEYS: every group's hours, one group after another. ARGV: the field names (FIELDS), then
 * each group's size. Answers each group's sums, FIELDS long, one group after another.
 */
const SUM_HOURS = `
local index = {}
local fields = tonumber(ARGV[1])
for i = 1, fields do index[ARGV[1 + i]] = i end
local out = {}
local key = 0
for g = fields + 2, #ARGV do
  local base = #out
  for i = 1, fields do out[base + i] = 0 end
  for _ = 1, tonumber(ARGV[g]) do
    key = key + 1
    local hash = redis.call('HGETALL', KEYS[key])
    for p = 1, #hash, 2 do
      local at = index[hash[p]]
      if at then out[base + at] = out[base + at] + tonumber(hash[p + 1]) end
    end
  end
end
return out
`;

/** A check at a location. */
export interface Series {
  checkId: string;
  location: string;
}

/**
 * Reads the hourly rollups (rollup-store.ts writes them; the key is its countStep's
 * `${prefix}:rollup:<check>:<location>:<hour>`) and keeps a summary per series and UTC day
 * once the day is over, `${prefix}:report-day:<check>:<location>:<day>` = encodeCounts. A
 * month is 720 hours × every series: 1.4 million hashes for 1,000 checks at 2 locations,
 * seconds of reading, where the summaries make it 30 strings per series in a few MGETs.
 * A summary expires when its day's first rollup does, so it never outlives what it sums.
 */
export class RollupReader {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly keepDays: number,
  ) {}

  private hourKey(series: Series, hour: number): string {
    return `${this.prefix}:rollup:${series.checkId}:${series.location}:${hour}`;
  }

  private dayKey(series: Series, day: number): string {
    return `${this.prefix}:report-day:${series.checkId}:${series.location}:${day}`;
  }

  /** The sum of each group of one series' hours, in order; hours without runs add nothing. */
  async sums(groups: Array<{ series: Series; hours: number[] }>): Promise<SeriesCounts[]> {
    const calls: Array<Promise<SeriesCounts[]>> = [];
    let keys: string[] = [];
    let sizes: number[] = [];
    const send = () => {
      const args = [String(FIELDS.length), ...FIELDS, ...sizes.map(String)];
      const groupCount = sizes.length;
      calls.push(
        (this.redis.eval(SUM_HOURS, keys.length, ...keys, ...args) as Promise<number[]>).then((flat) =>
          Array.from({ length: groupCount }, (_, group) => {
            const at = group * FIELDS.length;
            return {
              runs: flat[at],
              failures: flat[at + 1],
              degraded: flat[at + 2],
              buckets: flat.slice(at + 3, at + FIELDS.length),
            };
          }),
        ),
      );
      keys = [];
      sizes = [];
    };
    for (const { series, hours } of groups) {
      for (const hour of hours) keys.push(this.hourKey(series, hour));
      sizes.push(hours.length);
      if (keys.length >= KEYS_PER_READ) send();
    }
    if (sizes.length > 0) send();
    // Sent together: Redis sums one call while the client reads the answer of the one before.
    return (await Promise.all(calls)).flat();
  }

  /** The stored day summaries of each (series, day) asked, in order; undefined where none is kept yet. */
  async days(wanted: Array<{ series: Series; day: number }>): Promise<Array<SeriesCounts | undefined>> {
    const batches: Array<Promise<Array<SeriesCounts | undefined>>> = [];
    for (let start = 0; start < wanted.length; start += MGET_CHUNK) {
      const keys = wanted.slice(start, start + MGET_CHUNK).map(({ series, day }) => this.dayKey(series, day));
      batches.push(this.redis.mget(keys).then((texts) => texts.map(decodeCounts)));
    }
    return (await Promise.all(batches)).flat();
  }

  /** Keeps day summaries (of days that are over: a later run would not be in them). */
  async saveDays(summaries: Array<{ series: Series; day: number; counts: SeriesCounts }>): Promise<void> {
    for (let start = 0; start < summaries.length; start += PIPELINE_CHUNK) {
      const pipeline = this.redis.pipeline();
      for (const { series, day, counts } of summaries.slice(start, start + PIPELINE_CHUNK)) {
        const expiresAt = Math.floor((day + this.keepDays * DAY_MS) / 1000);
        pipeline.set(this.dayKey(series, day), encodeCounts(counts), 'EXAT', expiresAt);
      }
      for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
    }
  }
}
