import { createHash } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { LoadedConfig } from '../config/load-config.ts';
import type { ItemSettings } from '../config/resolve-item-settings.ts';
import type { ResolvedJourney } from '../journeys/load-journeys.ts';
import { JOB_NAME_OF_QUEUE, newRunNonce, type QueueKind, queueOfKind, type RunJobData } from './run-queue.ts';

/** Anything run on a schedule: a check (probe queue) or a journey (journeys queue). */
export interface ScheduledItem {
  id: string;
  interval: number;
  /** The longest one slot's run can take: every attempt's timeout plus the delays between them. */
  maxRunMs: number;
  locations: string[];
  enabled: boolean;
  queue: QueueKind;
}

/** Checks and journeys alike: each is scheduled from its resolved settings alone. */
export function scheduledItems(config: LoadedConfig, journeys: ResolvedJourney[] = []): ScheduledItem[] {
  return [...config.checks, ...journeys].map(scheduledItem);
}

function scheduledItem(item: ItemSettings & { id: string; kind: string }): ScheduledItem {
  return {
    id: item.id,
    interval: item.interval,
    maxRunMs: item.timeout * (item.retries + 1) + item.retryDelay * item.retries,
    locations: item.locations,
    enabled: item.enabled,
    queue: queueOfKind(item.kind),
  };
}

/**
 * Where in its interval an item fires, from a hash of its id and location: stable across
 * syncs and processes, and spread evenly, so a thousand checks with the same interval do
 * not all fire in the same second (BullMQ aligns `every` to multiples of the interval).
 */
export function spreadOffset(id: string, location: string, interval: number): number {
  return createHash('sha1').update(`${id}@${location}`).digest().readUInt32BE(0) % interval;
}

export interface SyncReport {
  added: string[];
  changed: string[];
  unchanged: string[];
  removed: string[];
}

/**
 * Makes the job schedulers in Redis match the config: one per enabled item at each of its
 * locations, keyed by item id in that location's queue. A scheduler whose interval is
 * unchanged is left alone (re-upserting would shift its cadence), and the scheduler id is
 * unique per queue, so two scheduler processes running the same sync add no duplicates.
 *
 * `queues` maps each location to its queues; every queue given is synced, so an item
 * removed from the config loses its scheduler.
 */
export async function syncSchedulers(
  items: ScheduledItem[],
  queues: Map<string, Partial<Record<QueueKind, Queue<RunJobData>>>>,
): Promise<SyncReport> {
  const report: SyncReport = { added: [], changed: [], unchanged: [], removed: [] };
  for (const [location, byKind] of queues) {
    for (const [kind, queue] of Object.entries(byKind) as Array<[QueueKind, Queue<RunJobData>]>) {
      const existing = new Map(
        (await queue.getJobSchedulers(0, -1)).map((scheduler) => [scheduler.key, scheduler]),
      );
      const wanted = items.filter(
        (item) => item.queue === kind && item.enabled && item.locations.includes(location),
      );
      for (const item of wanted) {
        const label = `${item.id}@${location}`;
        const current = existing.get(item.id);
        const offset = spreadOffset(item.id, location, item.interval);
        // A scheduler made before jobs carried their nonce is made again, once, to carry it.
        const hasNonce = Boolean(current?.template?.data?.runNonce);
        if (current?.every === item.interval && (current.offset ?? 0) === offset && hasNonce) {
          report.unchanged.push(label);
          continue;
        }
        await queue.upsertJobScheduler(
          item.id,
          { every: item.interval, offset },
          {
            name: JOB_NAME_OF_QUEUE[kind],
            // Every job the scheduler makes carries the template's nonce: a job's run id
            // still differs per slot (its id holds the slot) and across installs (this nonce).
            data: { checkId: item.id, location, runNonce: newRunNonce() },
            opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 500 } },
          },
        );
        (current ? report.changed : report.added).push(label);
      }
      const wantedIds = new Set(wanted.map((item) => item.id));
      for (const id of existing.keys()) {
        if (!wantedIds.has(id)) {
          await queue.removeJobScheduler(id);
          report.removed.push(`${id}@${location}`);
        }
      }
    }
  }
  return report;
}
