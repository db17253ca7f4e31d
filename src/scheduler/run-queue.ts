import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Probes and journeys have separate queues per location so that a worker can run many
 * cheap probes and few browser journeys at once (their concurrency is set separately).
 * BullMQ forbids ":" in queue names, hence `runs-<location>` / `journeys-<location>`.
 */
export type QueueKind = 'runs' | 'journeys';
export const QUEUE_KINDS: readonly QueueKind[] = ['runs', 'journeys'];

/**
 * The one table of item kinds: which queue each goes to. Every check kind (registry.ts) goes
 * to the probe queue; a journey needs a browser and goes to its own queue, so a slow journey
 * never delays a 1 s tcp check. Nothing else in pathwatch branches on an item's kind.
 */
const QUEUE_OF_ITEM_KIND: Partial<Record<string, QueueKind>> = { journey: 'journeys' };

/** The queue an item of `kind` (`http`, `journey`, …) runs from. */
export function queueOfKind(kind: string): QueueKind {
  return QUEUE_OF_ITEM_KIND[kind] ?? 'runs';
}

/** The name scheduler jobs get in each queue (shown by BullMQ tools). */
export const JOB_NAME_OF_QUEUE: Record<QueueKind, string> = { runs: 'run', journeys: 'journey' };

export function queueName(kind: QueueKind, location: string): string {
  return `${kind}-${location}`;
}

/** The probe queue of a location. */
export function runQueueName(location: string): string {
  return queueName('runs', location);
}

/** What the scheduler puts on a location's queue; the worker looks the check up in its own config. */
export interface RunJobData {
  /** A check id, or a journey id on a journeys queue. */
  checkId: string;
  location: string;
  /** Set by "run now"; scheduled jobs derive it from the job's timestamp. */
  requestedAt?: number;
  /**
   * Random, part of the run id, so ids differ across installs and Redis restarts yet stay
   * the same when a job is redone. Set where the job is made (a scheduler's template, "run
   * now"), so a worker does not spend a write per job on it; a job made without one gets it
   * from the worker the first time it is processed.
   */
  runNonce?: string;
}

/** A fresh `runNonce` for a job or a scheduler's template. */
export function newRunNonce(): string {
  return randomBytes(12).toString('hex');
}

export function openQueue(
  kind: QueueKind,
  location: string,
  connection: Redis,
  prefix: string,
): Queue<RunJobData> {
  return new Queue<RunJobData>(queueName(kind, location), { connection, prefix });
}

export function openRunQueue(location: string, connection: Redis, prefix: string): Queue<RunJobData> {
  return openQueue('runs', location, connection, prefix);
}
