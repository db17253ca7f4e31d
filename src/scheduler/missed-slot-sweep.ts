import type { Queue } from 'bullmq';
import type { MissedSlotStore } from '../results/missed-slot-store.ts';
import type { Logger } from '../util/logger.ts';
import type { QueueKind, RunJobData } from './run-queue.ts';
import { slotOf } from './slot-of.ts';
import { type ScheduledItem, spreadOffset } from './sync-schedulers.ts';

export interface MissedSlotSweepOptions {
  items: ScheduledItem[];
  /** Each location's queues, as synced by the scheduler. */
  queues: Map<string, Partial<Record<QueueKind, Queue<RunJobData>>>>;
  store: MissedSlotStore;
  logger: Logger;
  /** Time between sweeps (default: the shortest interval, between 1 s and 10 s). */
  everyMs?: number;
  /** Slack past a slot's interval and longest run before it counts as missed (default 5 s). */
  graceMs?: number;
  now?: () => number;
}

export interface MissedSlotSweep {
  /** One pass over every series; returns the slots it marked missed. */
  sweepOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Jobs looked at per queue for slots still waiting or running: bounded work per sweep. */
const JOBS_LOOKED_AT = 200;

/**
 * Finds series that stopped producing runs (worker down, queue stuck): a run arriving finds
 * the gap before it, but a series with no more runs needs someone to look. Slots are
 * deterministic (`spreadOffset + k × interval`), so every slot after the series' cursor
 * that is overdue by more than interval + longest run + grace, and whose job is neither
 * pending nor running (BullMQ runs that one late, and skips the rest), had no run.
 */
export function startMissedSlotSweep(options: MissedSlotSweepOptions): MissedSlotSweep {
  const { items, queues, store, logger } = options;
  const now = options.now ?? Date.now;
  const graceMs = options.graceMs ?? 5000;
  const shortest = Math.min(...items.map((item) => item.interval));
  const everyMs =
    options.everyMs ?? Math.min(10_000, Math.max(1000, Number.isFinite(shortest) ? shortest : 10_000));

  const sweepOnce = async (): Promise<number> => {
    let marked = 0;
    for (const [location, byKind] of queues) {
      for (const [kind, queue] of Object.entries(byKind) as Array<[QueueKind, Queue<RunJobData>]>) {
        const series = items.filter(
          (item) => item.queue === kind && item.enabled && item.locations.includes(location),
        );
        if (series.length === 0) continue;
        const inFlight = await slotsInFlight(queue);
        for (const item of series) {
          marked += await sweepSeries(item, location, queue, inFlight.get(item.id) ?? []);
        }
      }
    }
    return marked;
  };

  const sweepSeries = async (
    item: ScheduledItem,
    location: string,
    queue: Queue<RunJobData>,
    inFlight: number[],
  ): Promise<number> => {
    const cursor = await store.cursor(item.id, location);
    if (cursor === undefined) return 0; // no run yet: nothing to measure a gap from
    const { interval } = item;
    const horizon = now() - (interval + item.maxRunMs + graceMs);
    const offset = spreadOffset(item.id, location, interval);
    const lastOverdue = Math.floor((horizon - offset) / interval) * interval + offset;
    if (lastOverdue < cursor + interval / 2) return 0;
    const next = (await queue.getJobScheduler(item.id))?.next;
    const excluded = [...inFlight, ...(next === undefined ? [] : [Number(next)])];
    const gaps = slotRanges(cursor + interval, lastOverdue, interval, excluded);
    if (gaps.length === 0) return 0;
    const marked = await store.recordSweep(item.id, location, cursor, lastOverdue, interval, gaps);
    if (marked > 0) {
      logger.warn(
        { checkId: item.id, location, missed: marked, from: gaps[0]?.start, to: gaps.at(-1)?.end },
        'schedule slots passed with no run',
      );
    }
    return Math.max(0, marked);
  };

  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = sweepOnce().catch((error: Error) =>
      // Redis unreachable: the next sweep tries again, and the outage's slots are found then.
      logger.debug({ err: error.message }, 'missed-slot sweep failed'),
    );
  }, everyMs);
  timer.unref();
  return {
    sweepOnce,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}

/** Slots of scheduler jobs waiting or running, per scheduler (check or journey id). */
async function slotsInFlight(queue: Queue<RunJobData>): Promise<Map<string, number[]>> {
  const jobs = await queue.getJobs(['active', 'waiting', 'prioritized'], 0, JOBS_LOOKED_AT - 1);
  const slots = new Map<string, number[]>();
  for (const job of jobs) {
    const slot = job ? slotOf(job) : undefined;
    if (slot === undefined) continue;
    slots.set(job.data.checkId, [...(slots.get(job.data.checkId) ?? []), slot]);
  }
  return slots;
}

/** The slots first..last on the interval's grid, minus `excluded`, as runs of consecutive slots. */
function slotRanges(
  first: number,
  last: number,
  interval: number,
  excluded: number[],
): Array<{ start: number; end: number; count: number }> {
  const holes = excluded
    .map((slot) => first + Math.round((slot - first) / interval) * interval)
    .filter((slot) => slot >= first && slot <= last)
    .sort((a, b) => a - b);
  const ranges: Array<{ start: number; end: number; count: number }> = [];
  let start = first;
  for (const hole of [...new Set(holes), last + interval]) {
    if (hole > start) {
      const end = hole - interval;
      ranges.push({ start, end, count: Math.round((end - start) / interval) + 1 });
    }
    start = hole + interval;
  }
  return ranges;
}
