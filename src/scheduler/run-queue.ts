import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * Probes and journeys have separate queues per location so that a worker can run many
 * cheap probes and few browser journeys at once (their concurrency is set separately).
 * BullMQ forbids ":" in queue names, hence `runs-<location>` / `journeys-<location>`.
 */
export type QueueKind = 'runs' | 'journeys';

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
   * Random, set by the worker the first time it processes the job and kept in the job: part
   * of the run id, so ids differ across installs and Redis restarts yet stay the same when
   * a job is redone.
   */
  runNonce?: string;
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
