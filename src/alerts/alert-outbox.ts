import type { Queue } from 'bullmq';
import type { IncidentStore, IncidentTransition } from '../results/incident-store.ts';
import type { Logger } from '../util/logger.ts';
import { type AlertEvent, type AlertItem, alertEventOf, incidentAlert } from './alert-event.ts';
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
    return this.queueEvent(event);
  }

  /**
   * Queues what a worker could not: the alert of an incident that opened (or ended) within
   * `withinMs` and has no alert status at all, because its worker died or lost Redis
   * between writing the incident and queueing the alert (a redone run is counted once, so it
   * never reports the transition again). Looks at each item's newest incident only: an open
   * one is owed a `down`, an ended one an `up`. A second queueing of one alert (the worker
   * was only slow) is refused by the job id, and the sent mark keeps a mail from going twice.
   */
  async reconcile(incidents: IncidentStore, now = Date.now(), withinMs = 86_400_000): Promise<AlertEvent[]> {
    const queued: AlertEvent[] = [];
    for (const item of this.items.values()) {
      const [incident] = await incidents.list(item.id, 1);
      if (!incident) continue;
      const kind = incident.end === undefined ? 'down' : 'up';
      if (now - (incident.end ?? incident.start) > withinMs) continue;
      const event = incidentAlert(incident, kind, item);
      if (await this.statuses.get(event.key)) continue;
      this.logger?.warn(
        { alert: event.key, checkId: event.checkId, kind },
        'an incident had no alert queued: queueing it now',
      );
      queued.push(await this.queueEvent(event));
    }
    return queued;
  }

  private async queueEvent(event: AlertEvent): Promise<AlertEvent> {
    // Status first: a job the worker takes at once then finds its status to update.
    await this.statuses.queued(event);
    await enqueueAlert(this.queue, event, DEFAULT_ALERT_RETRY.attempts);
    this.logger?.info({ alert: event.key, checkId: event.checkId, kind: event.kind }, 'alert queued');
    return event;
  }
}
