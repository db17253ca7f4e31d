import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** BullMQ forbids ":" in queue names, so a location's queue is `runs-<location>`. */
export function runQueueName(location: string): string {
  return `runs-${location}`;
}

/** What the scheduler puts on a location's queue; the worker looks the check up in its own config. */
export interface RunJobData {
  checkId: string;
  location: string;
  /** Set by "run now"; scheduled jobs derive it from the job's timestamp. */
  requestedAt?: number;
}

export function openRunQueue(location: string, connection: Redis, prefix: string): Queue<RunJobData> {
  return new Queue<RunJobData>(runQueueName(location), { connection, prefix });
}
