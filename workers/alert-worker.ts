import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AlertChannel } from '../src/alerts/alert-channel.ts';
import type { AlertEvent } from '../src/alerts/alert-event.ts';
import {
  ALERT_QUEUE_NAME,
  type AlertRetryPolicy,
  alertRetryDelay,
  DEFAULT_ALERT_RETRY,
} from '../src/alerts/alert-queue.ts';
import type { AlertStatusStore } from '../src/alerts/alert-status-store.ts';
import type { Logger } from '../src/util/logger.ts';

export interface AlertWorkerOptions {
  /** Its own connection: a BullMQ worker blocks on it. */
  connection: Redis;
  prefix: string;
  channel: AlertChannel;
  statuses: AlertStatusStore;
  logger: Logger;
  /**
   * The waits between attempts (the attempts themselves are set on each job when it is queued).
   * @defaultValue DEFAULT_ALERT_RETRY: 15 s doubling to at most 15 min
   */
  retry?: Pick<AlertRetryPolicy, 'firstDelayMs' | 'maxDelayMs'>;
  /**
   * Alerts sent at once.
   * @defaultValue 4
   */
  concurrency?: number;
}

/** What a finished alert job keeps: the server's reply, and whether an earlier attempt had sent it. */
export interface AlertJobOutcome {
  response: string;
  alreadySent: boolean;
}

/**
 * Delivers queued alerts through a channel, each exactly once across retries and restarts:
 * an alert already marked sent is not sent again, and the mark is written the moment the
 * server accepted. Failures are retried with a doubling, capped wait (DEFAULT_ALERT_RETRY:
 * about 8 h 30 min in all) and each attempt's outcome is the alert's visible status.
 *
 * The window that remains: a crash (or a lost Redis) between the server's "250 accepted"
 * and the mark being written, a few milliseconds, makes the retry send the mail again.
 * It goes out with the same Message-ID, so clients that thread or deduplicate by it show
 * one; closing that window would need the mail server to take part in a transaction.
 */
export function startAlertWorker(options: AlertWorkerOptions): Worker<AlertEvent, AlertJobOutcome> {
  const { channel, statuses, logger } = options;
  const policy = { ...DEFAULT_ALERT_RETRY, ...options.retry };
  const worker = new Worker<AlertEvent, AlertJobOutcome>(
    ALERT_QUEUE_NAME,
    async (job) => {
      const event = job.data;
      const earlier = await statuses.sentResponse(event.key);
      if (earlier !== undefined) {
        logger.info({ alert: event.key }, 'alert already sent; not sending it again');
        return { response: earlier, alreadySent: true };
      }
      const attempt = job.attemptsMade + 1;
      const attempts = job.opts.attempts ?? 1;
      let failure: { message: string; permanent: boolean } | undefined;
      try {
        const receipt = await channel.send(event);
        if (receipt.accepted) {
          await statuses.sent(event, receipt, attempt);
          logger.info({ alert: event.key, attempt, response: receipt.response }, 'alert sent');
          return { response: receipt.response, alreadySent: false };
        }
        failure = { message: `not accepted: ${receipt.response}`, permanent: true };
      } catch (error) {
        failure = {
          message: (error as Error)?.message ?? String(error),
          permanent: (error as { permanent?: unknown })?.permanent === true,
        };
      }
      const last = failure.permanent || attempt >= attempts;
      await statuses.attemptFailed(
        event,
        failure.message,
        attempt,
        last ? 'failed' : { at: Date.now() + alertRetryDelay(attempt, policy) },
      );
      logger.warn(
        { alert: event.key, attempt, attempts, error: failure.message },
        last ? 'alert failed; no more attempts' : 'alert not sent; will retry',
      );
      if (failure.permanent) throw new UnrecoverableError(failure.message);
      throw new Error(failure.message);
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 4,
      // A worker that died mid-send leaves its job stalled; it is taken up again (and the
      // sent mark stops a second mail) rather than failed after one stall.
      maxStalledCount: 10,
      settings: { backoffStrategy: (attemptsMade: number) => alertRetryDelay(attemptsMade, policy) },
    },
  );
  // Failures are already logged above, with the alert; BullMQ's own 'error' events are connection noise.
  worker.on('error', (error) => logger.debug({ err: error.message }, 'alert worker error'));
  return worker;
}
