import type { Queue } from 'bullmq';
import type { LoadedConfig } from '../config/load-config.ts';
import type { RunJobData } from './run-queue.ts';

export interface SyncReport {
  added: string[];
  changed: string[];
  unchanged: string[];
  removed: string[];
}

/**
 * Makes the job schedulers in Redis match the config: one per enabled check at each of
 * its locations, keyed by check id in that location's queue. A scheduler whose interval
 * is unchanged is left alone (re-upserting would shift its cadence), and the scheduler id
 * is unique, so two scheduler processes running the same sync produce no duplicate runs.
 */
export async function syncSchedulers(
  config: LoadedConfig,
  queues: Map<string, Queue<RunJobData>>,
): Promise<SyncReport> {
  const report: SyncReport = { added: [], changed: [], unchanged: [], removed: [] };
  for (const [location, queue] of queues) {
    const existing = new Map(
      (await queue.getJobSchedulers(0, -1)).map((scheduler) => [scheduler.key, scheduler]),
    );
    const wanted = config.checks.filter((check) => check.enabled && check.locations.includes(location));
    for (const check of wanted) {
      const label = `${check.id}@${location}`;
      const current = existing.get(check.id);
      if (current?.every === check.interval) {
        report.unchanged.push(label);
        continue;
      }
      await queue.upsertJobScheduler(
        check.id,
        { every: check.interval },
        {
          name: 'run',
          data: { checkId: check.id, location },
          opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
        },
      );
      (current ? report.changed : report.added).push(label);
    }
    const wantedIds = new Set(wanted.map((check) => check.id));
    for (const id of existing.keys()) {
      if (!wantedIds.has(id)) {
        await queue.removeJobScheduler(id);
        report.removed.push(`${id}@${location}`);
      }
    }
  }
  return report;
}
