import { RedisKeyspace } from '../redis/redis-keyspace.ts';
import { type RedisStep, runSteps } from './redis-step.ts';

/** Consecutive schedule slots of one check at one location that produced no run. */
export interface SlotGap {
  location: string;
  /** The first and last missed slot (epoch ms, when the runs were due). */
  start: number;
  end: number;
  count: number;
}

/** Gaps kept per check and location; the oldest are dropped past it. */
const GAPS_PER_SERIES = 500;

/**
 * Shared by both scripts: adds the gap [first, last] of `count` slots to a series, merged
 * into the newest gap when it continues it (a sweep extends the gap it opened), keeps the
 * series at its cap and counts the slots in the total.
 */
const ADD_GAP = `
local function addGap(gaps, totals, location, first, last, count, interval, cap)
  local newest = redis.call('ZRANGE', gaps, -1, -1)[1]
  if newest then
    local s, e, c = string.match(newest, '^(%d+):(%d+):(%d+)$')
    if s and math.abs(tonumber(e) + interval - first) < interval / 2 then
      redis.call('ZREM', gaps, newest)
      first = tonumber(s)
      count = count + tonumber(c)
      redis.call('HINCRBY', totals, location, count - tonumber(c))
      redis.call('ZADD', gaps, first, first .. ':' .. last .. ':' .. count)
      return
    end
  end
  redis.call('HINCRBY', totals, location, count)
  redis.call('ZADD', gaps, first, first .. ':' .. last .. ':' .. count)
  local excess = redis.call('ZCARD', gaps) - cap
  if excess > 0 then redis.call('ZREMRANGEBYRANK', gaps, 0, excess - 1) end
end
`;

/**
 * A run for `slot` arrived. Every slot between the series' cursor (the last slot accounted
 * for) and this one had no run: a gap. A slot at or before the cursor is a redo, a retry
 * or a late run; if a sweep had already counted it missed, it is taken back out of its gap
 * (so a slot is never both a run and a gap in the history) and counted late. The missed
 * count itself never goes down: it is a Prometheus counter.
 * KEYS: cursors, missed totals, gaps, late totals. ARGV: location, slot, interval, cap.
 * Returns slots missed, or -1 for a late run.
 */
const RECORD_RUN = `${ADD_GAP}
local location, slot, interval, cap = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local cursor = tonumber(redis.call('HGET', KEYS[1], location))
if not cursor then
  redis.call('HSET', KEYS[1], location, slot)
  return 0
end
if slot >= cursor + interval / 2 then
  local missed = math.floor((slot - cursor) / interval + 0.5) - 1
  redis.call('HSET', KEYS[1], location, slot)
  if missed > 0 then addGap(KEYS[3], KEYS[2], location, cursor + interval, slot - interval, missed, interval, cap) end
  return missed
end
local holder = redis.call('ZREVRANGEBYSCORE', KEYS[3], slot, '-inf', 'LIMIT', 0, 1)[1]
if not holder then return 0 end
local s, e = string.match(holder, '^(%d+):(%d+):%d+$')
s, e = tonumber(s), tonumber(e)
if slot > e + interval / 2 then return 0 end
redis.call('ZREM', KEYS[3], holder)
redis.call('HINCRBY', KEYS[4], location, 1)
if slot - s >= interval / 2 then
  local last = slot - interval
  redis.call('ZADD', KEYS[3], s, s .. ':' .. last .. ':' .. (math.floor((last - s) / interval + 0.5) + 1))
end
if e - slot >= interval / 2 then
  local first = slot + interval
  redis.call('ZADD', KEYS[3], first, first .. ':' .. e .. ':' .. (math.floor((e - first) / interval + 0.5) + 1))
end
return -1
`;

/**
 * A sweep found slots overdue with no run. Applied only if the cursor is still the one
 * the sweep read (another sweeper or a run may have moved it meanwhile: the next sweep
 * sees the new state). KEYS: cursors, missed totals, gaps, late totals. ARGV: location, expected cursor,
 * new cursor, interval, cap, then start, end, count per gap. Returns slots missed, or -1.
 */
const RECORD_SWEEP = `${ADD_GAP}
local location, expected, target = ARGV[1], ARGV[2], tonumber(ARGV[3])
local interval, cap = tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('HGET', KEYS[1], location) ~= expected then return -1 end
redis.call('HSET', KEYS[1], location, target)
local missed = 0
for i = 6, #ARGV, 3 do
  local count = tonumber(ARGV[i + 2])
  addGap(KEYS[3], KEYS[2], location, tonumber(ARGV[i]), tonumber(ARGV[i + 1]), count, interval, cap)
  missed = missed + count
end
return missed
`;

/**
 * Schedule slots that produced no run, per check and location: counted (for /metrics) and
 * kept as gaps with start, end and count (for the check's history). Each series has a
 * cursor, the last slot accounted for, either by a stored run or by a gap; a slot is
 * counted once whether a run's arrival or a sweep found it missing.
 */
export class MissedSlotStore extends RedisKeyspace {
  private keys(checkId: string, location: string): [string, string, string, string] {
    return [
      this.keyOf('slots', 'cursor', checkId),
      this.keyOf('slots', 'missed', checkId),
      this.keyOf('slots', 'gaps', checkId, location),
      this.keyOf('slots', 'late', checkId),
    ];
  }

  /** A run for the scheduled slot `slot` was stored; returns the slots found missed before it. */
  async recordRun(checkId: string, location: string, slot: number, interval: number): Promise<number> {
    const [missed] = await runSteps(this.redis, [this.slotStep(checkId, location, slot, interval)]);
    return Number(missed);
  }

  /**
   * The step that accounts for a run's slot (see RECORD_RUN): written with the run's record
   * in one script, a slot is accounted for exactly when its run is stored.
   */
  slotStep(checkId: string, location: string, slot: number, interval: number): RedisStep {
    return {
      name: 'record-slot',
      lua: RECORD_RUN,
      keys: this.keys(checkId, location),
      args: [location, slot, interval, GAPS_PER_SERIES],
    };
  }

  /** The last slot accounted for, or undefined before the series' first run or sweep. */
  async cursor(checkId: string, location: string): Promise<number | undefined> {
    const value = await this.redis.hget(this.keys(checkId, location)[0], location);
    return value === null ? undefined : Number(value);
  }

  /**
   * Starts a series that has no cursor yet at `slot` (the last slot before its scheduler
   * existed), so that slots after it with no run count as missed even if no run ever came;
   * a series already started keeps its cursor. Returns the cursor in force.
   */
  async startSeries(checkId: string, location: string, slot: number): Promise<number> {
    const key = this.keys(checkId, location)[0];
    await this.redis.hsetnx(key, location, slot);
    return Number(await this.redis.hget(key, location));
  }

  /**
   * Marks `gaps` missed and moves the cursor to `target`, if the cursor is still
   * `expected`. Returns the slots counted, or -1 when the cursor had moved.
   */
  async recordSweep(
    checkId: string,
    location: string,
    expected: number,
    target: number,
    interval: number,
    gaps: Array<{ start: number; end: number; count: number }>,
  ): Promise<number> {
    const [counted] = await runSteps(this.redis, [
      {
        name: 'sweepSlots',
        lua: RECORD_SWEEP,
        keys: this.keys(checkId, location),
        args: [
          location,
          String(expected),
          target,
          interval,
          GAPS_PER_SERIES,
          ...gaps.flatMap((gap) => [gap.start, gap.end, gap.count]),
        ],
      },
    ]);
    return Number(counted);
  }

  /** Slots counted missed so far per location; never decreases (a late run is counted in lateTotals). */
  async totals(checkId: string): Promise<Record<string, number>> {
    return this.countsAt(this.keyOf('slots', 'missed', checkId));
  }

  /** Slots counted missed whose run arrived afterwards, per location: missed − late have no run. */
  async lateTotals(checkId: string): Promise<Record<string, number>> {
    return this.countsAt(this.keyOf('slots', 'late', checkId));
  }

  private async countsAt(key: string): Promise<Record<string, number>> {
    const entries = await this.redis.hgetall(key);
    return Object.fromEntries(Object.entries(entries).map(([location, count]) => [location, Number(count)]));
  }

  /** Gaps at the given locations, newest first; `since` keeps those ending at or after it. */
  async gaps(
    checkId: string,
    locations: string[],
    query: { since?: number; limit?: number } = {},
  ): Promise<SlotGap[]> {
    const limit = query.limit ?? 50;
    const perLocation = await Promise.all(
      locations.map(async (location) => {
        const members = await this.redis.zrevrange(this.keys(checkId, location)[2], 0, limit - 1);
        return members.map((member) => {
          const [start, end, count] = member.split(':').map(Number);
          return { location, start, end, count };
        });
      }),
    );
    return perLocation
      .flat()
      .filter((gap) => query.since === undefined || gap.end >= query.since)
      .sort((a, b) => b.start - a.start)
      .slice(0, limit);
  }
}
