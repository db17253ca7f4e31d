import type { Queue } from 'bullmq';
import type { IncidentTransition } from '../results/incident-store.ts';
import type { Logger } from '../util/logger.ts';
import { type AlertEvent, type AlertItem, alertEventOf } from './alert-event.ts';
import { DEFAULT_ALERT_RETRY, enqueueAlert } from './alert-queue.ts';
import type { AlertStatusStore } from './alert-status-store.ts';

/**
 * Turns the incident transitions a worker records into alert jobs: one `down` when an
 * incident opens, one `up` when it ends, each queued once (job id = idempotency key) and
 * shown as `queued` until the alert worker takes it.
 */
export class AlertOutbox {
  private readonly items: Map<string, AlertItem>;

  constructor(
    private readonly queue: Queue<AlertEvent>,
    private readonly statuses: AlertStatusStore,
    items: AlertItem[],
    private readonly logger?: Logger,
  ) {
    this.items = new Map(items.map((item) => [item.id, item]));
  }

  /** Queues the alert a transition makes, if any; returns it. */
  async enqueue(transition: IncidentTransition | undefined): Promise<AlertEvent | undefined> {
    if (!transition) return undefined;
    const event = alertEventOf(transition, this.items.get(transition.incident.checkId));
    if (!event) return undefined;
    // Status first: a job the worker takes at once then finds its status to update.
    await this.statuses.queued(event);
    await enqueueAlert(this.queue, event, DEFAULT_ALERT_RETRY.attempts);
    this.logger?.info({ alert: event.key, checkId: event.checkId, kind: event.kind }, 'alert queued');
    return event;
  }
}
