import { DelayedError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AlertChannel } from '../src/alerts/alert-channel.ts';
import { type AlertContext, EMPTY_ALERT_CONTEXT } from '../src/alerts/alert-context.ts';
import type { AlertEvent } from '../src/alerts/alert-event.ts';
import type { AlertGate, GateDecision } from '../src/alerts/alert-gate.ts';
import type { AlertOutbox } from '../src/alerts/alert-outbox.ts';
import {
  ALERT_QUEUE_NAME,
  type AlertRetryPolicy,
  alertRetryDelay,
  DEFAULT_ALERT_RETRY,
} from '../src/alerts/alert-queue.ts';
import type { AlertStatusStore } from '../src/alerts/alert-status-store.ts';
import { deliveryAttempts } from '../src/alerts/delivery-attempts.ts';
import type { Logger } from '../src/util/logger.ts';

export interface AlertWorkerOptions {
  /** Its own connection: a BullMQ worker blocks on it. */
  connection: Redis;
  prefix: string;
  /** One per channel name (`email`, `webhook`); an alert for a channel not here fails at once. */
  channels: AlertChannel[];
  statuses: AlertStatusStore;
  logger: Logger;
  /**
   * The policy asked right before each send (verdict, probe host, maintenance, storms).
   * @defaultValue none: every alert is sent as queued
   */
  gate?: AlertGate;
  /**
   * Queues reminders, escalations and digests as alerts go out.
   * @defaultValue none: no follow-ups
   */
  outbox?: AlertOutbox;
  /**
   * Reads the evidence behind an alert (state table, failing run, screenshot, links).
   * @defaultValue none: alerts carry only their own facts
   */
  gather?: (event: AlertEvent) => Promise<AlertContext>;
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

/** What a finished alert job keeps: the server's reply, or why nothing was sent. */
export interface AlertJobOutcome {
  response: string;
  alreadySent: boolean;
}

/**
 * Delivers queued alerts through their channel, each exactly once across retries and
 * restarts: an alert already marked sent is not sent again, and the mark is written the
 * moment the server accepted. Right before a send the gate applies the policy (it may hold,
 * skip, fold or delay the alert); after it, the outbox queues what follows (reminders,
 * escalations, the storm's digest), each delayed in Redis until due. Failures are retried
 * with a doubling, capped wait (about 8 h 30 min in all) and each attempt's outcome is the
 * alert's visible status.
 *
 * The window that remains: a crash (or a lost Redis) between the server's "250 accepted"
 * and the mark being written, a few milliseconds, makes the retry send the mail again.
 * It goes out with the same Message-ID, so clients that thread or deduplicate by it show
 * one; closing that window would need the mail server to take part in a transaction.
 */
export function startAlertWorker(options: AlertWorkerOptions): Worker<AlertEvent, AlertJobOutcome> {
  const { statuses, logger, gate, outbox } = options;
  const channels = new Map(options.channels.map((channel) => [channel.name, channel]));
  const policy = { ...DEFAULT_ALERT_RETRY, ...options.retry };
  const attempt = deliveryAttempts({ policy, statuses, logger, what: 'alert' });

  /** Reminders and escalations of a down alert, the next reminder of a reminder. */
  const queueFollowUps = async (event: AlertEvent) => {
    if (!outbox) return;
    const { max } = outbox.routing.reminders;
    if (event.kind === 'down') {
      if (max > 0) {
        const reminder = outbox.reminderOf(event, 1);
        await outbox.queue(reminder, reminder.at);
      }
      for (const escalation of outbox.escalationsOf(event)) await outbox.queue(escalation, escalation.at);
    } else if (event.kind === 'reminder' && (event.reminder ?? 0) < max) {
      const next = outbox.reminderOf(event, (event.reminder ?? 0) + 1);
      await outbox.queue(next, next.at);
    }
  };

  // What follows an alert is queued before its own status is written: a crash in between
  // redoes the job, which queues the same ids again (refused) instead of leaving them out.
  const settle = async (decision: Extract<GateDecision, { action: 'settle' }>) => {
    if (decision.digest && outbox) await outbox.queue(decision.digest, decision.digest.at);
    if (decision.followUps) await queueFollowUps(decision.event);
    // A folded alert is told, in its digest: the list is owed the incident's recovery.
    if (decision.state === 'folded') await statuses.rememberTold(decision.event);
    await statuses.settled(decision.event, decision.state, decision.reason);
    logger.info({ alert: decision.event.key, reason: decision.reason }, `alert ${decision.state}`);
  };

  const worker = new Worker<AlertEvent, AlertJobOutcome>(
    ALERT_QUEUE_NAME,
    async (job, token) => {
      const queued = job.data;
      const earlier = await statuses.sentResponse(queued.key);
      if (earlier !== undefined) {
        logger.info({ alert: queued.key }, 'alert already sent; not sending it again');
        // What follows a send may not have happened (a crash right after the mark): again,
        // both idempotent (the follow-ups by their job ids).
        await statuses.rememberTold(queued);
        await queueFollowUps(queued);
        return { response: earlier, alreadySent: true };
      }
      const decision: GateDecision = gate ? await gate.decide(queued) : { action: 'send', event: queued };
      if (decision.action === 'wait') {
        // Not an attempt: the job goes back to the delayed set and is taken again when due.
        await job.moveToDelayed(Date.now() + decision.ms, token);
        throw new DelayedError();
      }
      if (decision.action === 'settle') {
        await settle(decision);
        return { response: `${decision.state}: ${decision.reason}`, alreadySent: false };
      }
      const event = decision.event;
      return attempt(job, {
        event,
        send: async () => {
          const channel = channels.get(event.channel);
          if (!channel)
            throw Object.assign(new Error(`no ${event.channel} channel is configured`), { permanent: true });
          const context = options.gather
            ? await options.gather(event).catch((error: Error) => {
                logger.warn(
                  { alert: event.key, err: error.message },
                  'the evidence of an alert could not be read',
                );
                return { ...EMPTY_ALERT_CONTEXT };
              })
            : { ...EMPTY_ALERT_CONTEXT };
          return channel.send(event, context);
        },
        afterSent: async () => {
          await statuses.rememberTold(event);
          await queueFollowUps(event);
        },
      });
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
