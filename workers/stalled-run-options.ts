import type { WorkerOptions } from 'bullmq';

/**
 * BullMQ lock settings for the run and journey workers, from `workers.stalledAfter`: the
 * lock is renewed every half lock while a run goes on, so only a dead or frozen worker lets
 * it lapse, and the stalled check (twice per lock, at most every 0.5 s) then hands the job
 * to another worker, which redoes it under the same run id.
 */
export function stalledRunOptions(
  stalledAfterMs: number,
): Pick<WorkerOptions, 'lockDuration' | 'stalledInterval'> {
  return {
    lockDuration: stalledAfterMs,
    stalledInterval: Math.max(500, Math.floor(stalledAfterMs / 2)),
  };
}
