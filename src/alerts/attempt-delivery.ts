import { UnrecoverableError } from 'bullmq';
import type { Logger } from '../util/logger.ts';
import type { ChannelReceipt } from './alert-channel.ts';
import type { AlertEvent } from './alert-event.ts';
import { type AlertRetryPolicy, alertRetryDelay } from './alert-queue.ts';
import type { AlertStatusStore } from './alert-status-store.ts';

export interface DeliveryAttempt {
  /** What is delivered: its status record and log lines are keyed by it. */
  event: AlertEvent;
  /** This attempt (1 for the first) and how many the job has. */
  attempt: number;
  attempts: number;
  policy: AlertRetryPolicy;
  statuses: AlertStatusStore;
  logger: Logger;
  /** How log lines name it: `alert`, `monthly report`. */
  what: string;
  /** The send itself; throws `{ permanent: true }` for what a retry cannot fix. */
  send(): Promise<ChannelReceipt>;
  /** Before its status says sent (the caller's own sent mark). @defaultValue none */
  beforeSent?(receipt: ChannelReceipt): Promise<void>;
  /** After its status says sent (follow-ups). @defaultValue none */
  afterSent?(receipt: ChannelReceipt): Promise<void>;
  /** When no attempt is left. @defaultValue none */
  onGiveUp?(): Promise<void>;
}

/**
 * One attempt of a queued delivery (an alert, a monthly report), as a BullMQ processor runs
 * it: sent, it is recorded sent; refused or failed, the attempt is recorded with when the
 * next comes (or `failed` when none will), and the job fails with the reason, unrecoverable
 * when no retry could help. One place, so every kind retries and reports alike.
 */
export async function attemptDelivery(
  delivery: DeliveryAttempt,
): Promise<{ response: string; alreadySent: false }> {
  const { event, attempt, attempts, statuses, logger, what } = delivery;
  // The attempt: delivered (and recorded so), or why not.
  let sent: ChannelReceipt | undefined;
  let failure = { message: '', permanent: false };
  try {
    const receipt = await delivery.send();
    if (receipt.accepted) {
      await delivery.beforeSent?.(receipt);
      await statuses.sent(event, receipt, attempt);
      logger.info({ alert: event.key, attempt, response: receipt.response }, `${what} sent`);
      sent = receipt;
    } else failure = { message: `not accepted: ${receipt.response}`, permanent: true };
  } catch (error) {
    failure = {
      message: (error as Error)?.message ?? String(error),
      permanent: (error as { permanent?: unknown })?.permanent === true,
    };
  }
  if (sent) {
    // Outside the attempt: it was delivered, whatever happens next. Should this throw, the
    // job is retried, finds the sent mark and redoes only this (the caller's "already sent").
    await delivery.afterSent?.(sent);
    return { response: sent.response, alreadySent: false };
  }
  const last = failure.permanent || attempt >= attempts;
  await statuses.attemptFailed(
    event,
    failure.message,
    attempt,
    last ? 'failed' : { at: Date.now() + alertRetryDelay(attempt, delivery.policy) },
  );
  logger.warn(
    { alert: event.key, attempt, attempts, error: failure.message },
    last ? `${what} failed; no more attempts` : `${what} not sent; will retry`,
  );
  if (last) await delivery.onGiveUp?.();
  if (failure.permanent) throw new UnrecoverableError(failure.message);
  throw new Error(failure.message);
}
