import type { Job } from 'bullmq';
import { attemptDelivery, type DeliveryAttempt } from './attempt-delivery.ts';

/** What stays the same across every attempt a queue's processor makes. */
export type DeliveryBinding = Pick<DeliveryAttempt, 'policy' | 'statuses' | 'logger' | 'what'>;

/** One attempt's own part: what it delivers and how, the rest bound or read from the job. */
export type JobDelivery = Omit<DeliveryAttempt, keyof DeliveryBinding | 'attempt' | 'attempts'>;

/**
 * attemptDelivery() with a queue's retry policy, status store, logger and name bound once, and
 * the attempt counted from the BullMQ job (attemptsMade is those before this one), so that the
 * alert worker and the monthly reports count attempts the same way.
 */
export function deliveryAttempts(binding: DeliveryBinding) {
  return (job: Pick<Job, 'attemptsMade' | 'opts'>, delivery: JobDelivery) =>
    attemptDelivery({
      ...binding,
      ...delivery,
      attempt: job.attemptsMade + 1,
      attempts: job.opts.attempts ?? 1,
    });
}
