import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { backoffDelay, type RetryBackoff } from '../util/retry-backoff.ts';
import type { AlertEvent } from './alert-event.ts';

/** The one queue of alert events, shared by every location (BullMQ forbids ":" in names). */
export const ALERT_QUEUE_NAME = 'alerts';

/** The name of alert jobs' backoff, computed by the alert worker (alertRetryDelay). */
export const ALERT_BACKOFF_TYPE = 'alert-backoff';

/** How an alert is retried: `attempts` in all, waiting as `RetryBackoff` says between them. */
export interface AlertRetryPolicy extends RetryBackoff {
  /**
   * Delivery attempts before an alert is `failed`.
   * @defaultValue 40
   */
  attempts: number;
}

/**
 * 15 s, 30 s, 1 min, 2 min, 4 min, 8 min, then every 15 min: 40 attempts span about
 * 8 h 30 min (39 waits: 16 min for the first six, 33 × 15 min after), long enough to ride out a
 * mail server's night-time outage, and no attempt is ever more than 15 min late.
 */
export const DEFAULT_ALERT_RETRY: AlertRetryPolicy = {
  attempts: 40,
  firstDelayMs: 15_000,
  maxDelayMs: 900_000,
};

/** The wait before attempt `attemptsMade + 1`: doubling from firstDelayMs (15 s), capped at maxDelayMs (15 min). */
export function alertRetryDelay(attemptsMade: number, policy: AlertRetryPolicy): number {
  return backoffDelay(attemptsMade, policy);
}

export function openAlertQueue(connection: Redis, prefix: string): Queue<AlertEvent> {
  return new Queue<AlertEvent>(ALERT_QUEUE_NAME, { connection, prefix });
}

/**
 * Adds the event's job, its id the event's idempotency key: BullMQ refuses a second job with
 * an id it still holds, so a second enqueue of the same event adds nothing. Finished jobs are
 * kept a week for that reason; past it the worker's sent mark still stops a second mail.
 * `notBefore` (epoch ms) delays it: a reminder, escalation or digest waits in Redis until
 * due, across restarts.
 */
export async function enqueueAlert(
  queue: Queue<AlertEvent>,
  event: AlertEvent,
  attempts = DEFAULT_ALERT_RETRY.attempts,
  notBefore?: number,
): Promise<void> {
  const delay = notBefore === undefined ? 0 : Math.max(0, notBefore - Date.now());
  await queue.add(event.kind, event, {
    jobId: event.key,
    ...(delay > 0 ? { delay } : {}),
    attempts,
    backoff: { type: ALERT_BACKOFF_TYPE },
    removeOnComplete: { age: 7 * 86_400, count: 10_000 },
    removeOnFail: { age: 30 * 86_400, count: 10_000 },
  });
}
