import type { Queue } from 'bullmq';
import type { MissedSlotStore } from '../results/missed-slot-store.ts';
import type { Logger } from '../util/logger.ts';
import type { QueueKind, RunJobData } from './run-queue.ts';
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
  /**
   * When the sync of the schedulers returned (default: when the sweep starts, which is right
   * after): a series with no run yet counts its slots from here, so a location whose worker
   * never ran still shows them. Not a time taken before the sync: a scheduler created late in
   * a slow sync makes its first job at its first slot after it was created, and a slot
   * between an earlier time and that one never had a job, so it would count missed although
   * nothing failed.
   */
  syncedAt?: number;
  now?: () => number;
}

export interface MissedSlotSweep {
  /** One pass over every series; returns the slots it marked missed. */
  sweepOnce(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Slots looked at per series and sweep: bounded work (one pipelined EXISTS each), and a
 * series further behind is caught up over the next sweeps, since the cursor moves on.
 */
const SLOTS_PER_SWEEP = 1000;

/**
 * Finds series that stopped producing runs (worker down, queue stuck) or never produced
 * one: a run arriving finds the gap before it, but a series with no more runs needs
 * someone to look. Slots lie on a grid (`offset + k × interval`), so every slot after the
 * series' cursor that is overdue by more than interval + longest run + grace, and whose
 * job is neither pending nor running (BullMQ runs that one late, and skips the rest), had
 * no run. A series without a cursor starts at the last slot before the sync.
 */
export function startMissedSlotSweep(options: MissedSlotSweepOptions): MissedSlotSweep {
  const { items, queues, store, logger } = options;
  const now = options.now ?? Date.now;
  const syncedAt = options.syncedAt ?? now();
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
        for (const item of series) marked += await sweepSeries(item, location, queue);
      }
    }
    return marked;
  };

  /** The series' cursor; one with none yet starts at the last slot at or before the sync. */
  const cursorOf = async (item: ScheduledItem, location: string, queue: Queue<RunJobData>) => {
    const cursor = await store.cursor(item.id, location);
    if (cursor !== undefined) return cursor;
    // The grid of the scheduler's own next slot: BullMQ aligns it to now when the offset is 0.
    const next = Number((await queue.getJobScheduler(item.id))?.next ?? Number.NaN);
    const reference = Number.isFinite(next) ? next : spreadOffset(item.id, location, item.interval);
    const start = reference + Math.floor((syncedAt - reference) / item.interval) * item.interval;
    return store.startSeries(item.id, location, start);
  };

  const sweepSeries = async (item: ScheduledItem, location: string, queue: Queue<RunJobData>) => {
    const { interval } = item;
    const cursor = await cursorOf(item, location, queue);
    const horizon = now() - (interval + item.maxRunMs + graceMs);
    // On the cursor's grid: it is a slot a run filled, or the start on the scheduler's grid.
    const overdue = cursor + Math.floor((horizon - cursor) / interval) * interval;
    const last = Math.min(overdue, cursor + SLOTS_PER_SWEEP * interval);
    if (last < cursor + interval / 2) return 0;
    const candidates: number[] = [];
    for (let slot = cursor + interval; slot <= last; slot += interval) candidates.push(slot);
    const pending = await pendingSlots(queue, item.id, candidates);
    const gaps = slotRanges(cursor + interval, last, interval, pending);
    // A series whose every candidate is still pending keeps its cursor: those slots may yet run.
    if (gaps.length === 0) return 0;
    const marked = await store.recordSweep(item.id, location, cursor, last, interval, gaps);
    if (marked > 0) {
      logger.warn(
        { checkId: item.id, location, missed: marked, from: gaps[0]?.start, to: gaps.at(-1)?.end },
        'schedule slots passed with no run',
      );
    }
    return Math.max(0, marked);
  };

  let stopped = false;
  // The sweep's commands queue while Redis is away (the scheduler's connection waits for
  // it): one sweep at a time, so ticks do not pile up during an outage.
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running || stopped) return;
    running = sweepOnce()
      .then(
        () => undefined,
        (error: Error) =>
          // Redis unreachable: the next sweep tries again, and the outage's slots are found then.
          logger.debug({ err: error.message }, 'missed-slot sweep failed'),
      )
      .finally(() => {
        running = undefined;
      });
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

/**
 * Of `slots`, those whose scheduler job is still waiting, delayed or running: BullMQ names
 * a scheduler's job `repeat:<scheduler id>:<slot ms>`, so each slot's job is looked up by
 * key, whatever the queue holds. A completed or failed job whose run is not accounted for
 * is missed (a run stored meanwhile moved the cursor, and the sweep's write is refused).
 */
async function pendingSlots(
  queue: Queue<RunJobData>,
  schedulerId: string,
  slots: number[],
): Promise<number[]> {
  if (slots.length === 0) return [];
  const client = await queue.getBackend().client;
  // A job's hash always holds its timestamp; candidates are few (the slots since the last sweep).
  const found = await Promise.all(
    slots.map((slot) => client.hexists(queue.toKey(`repeat:${schedulerId}:${slot}`), 'timestamp')),
  );
  const existing = slots.filter((_, index) => found[index] === 1);
  const states = await Promise.all(
    existing.map((slot) => queue.getJobState(`repeat:${schedulerId}:${slot}`)),
  );
  return existing.filter((_, index) => !['completed', 'failed', 'unknown'].includes(states[index]));
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
