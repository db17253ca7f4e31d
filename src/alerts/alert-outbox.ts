import type { Queue } from 'bullmq';
import type { Incident, IncidentStore, IncidentTransition } from '../results/incident-store.ts';
import type { StateChange } from '../results/state-store.ts';
import type { Logger } from '../util/logger.ts';
import {
  type AlertEvent,
  type AlertEventKind,
  type AlertItem,
  alertKey,
  type MaintenanceOccurrence,
} from './alert-event.ts';
import { DEFAULT_ALERT_RETRY, enqueueAlert } from './alert-queue.ts';
import type { AlertDelivery, AlertRouting } from './alert-routing.ts';
import type { AlertStatusStore } from './alert-status-store.ts';

/** Slack on top of an interval and a timeout before a verdict stops waiting for a slot's runs. */
const SETTLE_SLACK_MS = 2000;

/** What recording a run did, as the outbox reads it. */
export interface RecordedChange {
  change?: StateChange;
  incident?: IncidentTransition;
}

/**
 * Turns what workers record into alert jobs, one per recipient list and channel, each
 * queued once (job id = idempotency key) and shown as `queued` until the alert worker takes
 * it: `down` when an incident opens (`location-down` for a control check), `up` when it
 * ends, `verdict` when another location joins or leaves it, `degraded*` for the routes that
 * ask. Reminders, escalations and digests are queued by the alert worker as it goes, through
 * the same `queue` method, delayed until they are due.
 */
export class AlertOutbox {
  constructor(
    private readonly jobs: Queue<AlertEvent>,
    private readonly statuses: AlertStatusStore,
    readonly routing: AlertRouting,
    private readonly logger?: Logger,
  ) {}

  /** Queues the alerts a recorded run makes, if any; returns them. */
  async enqueue(recorded: RecordedChange | IncidentTransition | undefined): Promise<AlertEvent[]> {
    if (!recorded) return [];
    const { change, incident } =
      'kind' in recorded ? { change: recorded.change, incident: recorded } : recorded;
    const events = [
      ...(incident ? this.eventsOfTransition(incident) : []),
      ...(change ? this.degradedEvents(change) : []),
    ];
    for (const event of events) await this.queue(event);
    return events;
  }

  private eventsOfTransition(transition: IncidentTransition): AlertEvent[] {
    const { incident, change } = transition;
    if (transition.kind === 'opened') return this.incidentEvents(incident, 'down');
    if (transition.kind === 'ended') return this.incidentEvents(incident, 'up', change.at);
    // Another location joined: the verdict may have changed (outside only → service). A
    // location recovering while others fail is not news worth a mail; the up alert is.
    if (change.to !== 'DOWN') return [];
    return this.incidentEvents(incident, 'verdict', change.at);
  }

  /**
   * The alerts of an incident, one per delivery: `down`, `up` or `verdict` for a check;
   * `location-down`/`location-up` (none for `verdict`) for a control check, whose incident
   * is about its probe host.
   */
  incidentEvents(
    incident: Incident,
    kind: 'down' | 'up' | 'verdict',
    changedAt = incident.end ?? incident.start,
  ): AlertEvent[] {
    const item = this.routing.item(incident.checkId);
    const controlled = item?.controlOf ?? [];
    if (controlled.length > 0) {
      // One check may be the control of several locations: each is told of on its own, the
      // ones DOWN now (a later one joining is its own location-down), and all of them at the end.
      const down = kind !== 'up';
      const locations = (down ? incident.downNow : incident.locations).filter((location) =>
        controlled.includes(location),
      );
      return locations.flatMap((location) =>
        this.routing.deliveriesFor({ locations: [location] }).map((delivery) =>
          this.eventFor(delivery, down ? 'location-down' : 'location-up', `${incident.id}-${location}`, {
            ...this.incidentFacts(incident, down ? 'down' : 'up', item, changedAt),
            location,
            locations: [location],
          }),
        ),
      );
    }
    const facts = this.incidentFacts(incident, kind, item, changedAt);
    const target = { checkId: incident.checkId, tags: item?.tags, locations: facts.locations };
    const deliveries = this.routing.deliveriesFor(target);
    if (kind === 'up') {
      // Recovery also goes to the lists an escalation reached; the worker skips any list that
      // never heard of the incident.
      for (const escalation of this.routing.escalationsFor(target)) {
        for (const list of escalation.lists) {
          for (const delivery of this.routing.channelsOf(list, deliveries[0]?.subjectTemplate)) {
            if (!deliveries.some((d) => d.list === delivery.list && d.channel === delivery.channel))
              deliveries.push(delivery);
          }
        }
      }
    }
    return deliveries.map((delivery) =>
      this.eventFor(delivery, kind, incident.id, facts, kind === 'verdict' ? changedAt : undefined),
    );
  }

  private incidentFacts(
    incident: Incident,
    kind: 'down' | 'up' | 'verdict',
    item: AlertItem | undefined,
    changedAt = incident.end ?? incident.start,
  ): Omit<AlertEvent, 'key' | 'kind' | 'list' | 'channel' | 'language'> {
    const at = kind === 'down' ? incident.start : kind === 'up' ? (incident.end ?? changedAt) : changedAt;
    return {
      incidentId: incident.id,
      checkId: incident.checkId,
      checkName: item?.name ?? incident.checkId,
      itemKind: item?.kind ?? 'check',
      tags: item?.tags ?? [],
      // An ended incident's down (queued late by the sweep) is about where it was DOWN.
      locations:
        kind === 'up' || incident.downNow.length === 0 ? [...incident.locations] : [...incident.downNow],
      firstError: incident.firstError,
      verdict: incident.verdict,
      at,
      start: incident.start,
      ...(kind === 'up' ? { downForMs: Math.max(0, at - incident.start) } : {}),
      ...(kind === 'down' || kind === 'verdict'
        ? { settleBy: at + this.settleWindow(item, incident.downNow) }
        : {}),
    };
  }

  /**
   * How long a down alert may wait for its verdict: the slot's other locations report within
   * one interval and timeout, and so do the control checks of the locations it is DOWN at.
   */
  private settleWindow(item: AlertItem | undefined, locations: string[]): number {
    let longest = item ? item.intervalMs + item.timeoutMs : 0;
    for (const control of this.routing.allItems) {
      // A control check needs downAfter failures in a row to be DOWN: as many intervals.
      if (control.controlOf.some((location) => locations.includes(location)))
        longest = Math.max(longest, control.intervalMs * control.downAfter + control.timeoutMs);
    }
    return longest + SETTLE_SLACK_MS;
  }

  /** `degraded` / `degraded-end` for the routes that asked for them. */
  private degradedEvents(change: StateChange): AlertEvent[] {
    const entering = change.to === 'DEGRADED' && change.from !== 'DOWN';
    const leaving = change.from === 'DEGRADED' && change.to === 'UP';
    if (!entering && !leaving) return [];
    const item = this.routing.item(change.checkId);
    const target = { checkId: change.checkId, tags: item?.tags, locations: [change.location] };
    return this.routing.deliveriesFor(target, { degradedOnly: true }).map((delivery) =>
      this.eventFor(
        delivery,
        entering ? 'degraded' : 'degraded-end',
        `${change.checkId}-${change.location}-${change.at}`,
        {
          checkId: change.checkId,
          checkName: item?.name ?? change.checkId,
          itemKind: item?.kind ?? 'check',
          tags: item?.tags ?? [],
          locations: [change.location],
          firstError: change.error,
          at: change.at,
        },
      ),
    );
  }

  /** The reminder `n` (1, 2, …) of a down alert, due `n` periods after the incident started. */
  reminderOf(down: AlertEvent, n: number): AlertEvent {
    const start = down.start ?? down.at;
    return {
      ...down,
      key: alertKey(down.incidentId ?? down.key, 'reminder', down.list, down.channel, n),
      kind: 'reminder',
      reminder: n,
      at: start + n * this.routing.reminders.everyMs,
    };
  }

  /** The escalations of a down alert: to each escalation list, due `after` the incident started. */
  escalationsOf(down: AlertEvent): AlertEvent[] {
    const start = down.start ?? down.at;
    const target = { checkId: down.checkId, tags: down.tags, locations: down.locations };
    return this.routing.escalationsFor(target).flatMap((escalation) =>
      escalation.lists.flatMap((list) =>
        this.routing.channelsOf(list, down.subjectTemplate).map((delivery) => ({
          ...down,
          ...delivery,
          key: alertKey(down.incidentId ?? down.key, 'escalation', delivery.list, delivery.channel),
          kind: 'escalation' as const,
          at: start + escalation.afterMs,
        })),
      ),
    );
  }

  /** The announcements of a maintenance window's start or end. */
  maintenanceEvents(
    occurrence: MaintenanceOccurrence,
    kind: 'maintenance-start' | 'maintenance-end',
    deliveries: AlertDelivery[],
  ): AlertEvent[] {
    return deliveries.map((delivery) =>
      this.eventFor(delivery, kind, `${occurrence.name}-${occurrence.start}`, {
        locations: [],
        maintenance: occurrence,
        at: kind === 'maintenance-start' ? occurrence.start : occurrence.end,
      }),
    );
  }

  private eventFor(
    delivery: AlertDelivery,
    kind: AlertEventKind,
    what: string,
    facts: Omit<AlertEvent, 'key' | 'kind' | 'list' | 'channel' | 'language'>,
    n?: number,
  ): AlertEvent {
    return {
      key: alertKey(what, kind, delivery.list, delivery.channel, n),
      kind,
      list: delivery.list,
      channel: delivery.channel,
      language: delivery.language,
      subjectTemplate: delivery.subjectTemplate,
      ...facts,
    };
  }

  /**
   * Queues what a worker could not: the alerts of an incident that opened (or ended) within
   * `withinMs` and have no status at all, because its worker died or lost Redis between
   * writing the incident and queueing them (a redone run is counted once, so it never
   * reports the transition again). Looks at each item's newest incident only. A second
   * queueing of one alert (the worker was only slow) is refused by the job id, and the sent
   * mark keeps it from going twice.
   */
  async reconcile(incidents: IncidentStore, now = Date.now(), withinMs = 86_400_000): Promise<AlertEvent[]> {
    const queued: AlertEvent[] = [];
    for (const item of this.routing.allItems) {
      const [incident] = await incidents.list(item.id, 1);
      if (!incident) continue;
      if (now - (incident.end ?? incident.start) > withinMs) continue;
      const downs = this.incidentEvents(incident, 'down');
      const downStatuses = await Promise.all(downs.map((event) => this.statuses.get(event.key)));
      // An ended incident whose downs were queued is owed only its ups (to lists that heard of
      // it: the worker checks). One that never alerted at all gets both, late but not lost.
      const neverAlerted = downStatuses.every((status) => status === undefined);
      const events =
        incident.end === undefined
          ? downs
          : [...(neverAlerted ? downs : []), ...this.incidentEvents(incident, 'up')];
      for (const event of events) {
        if (await this.statuses.get(event.key)) continue;
        this.logger?.warn(
          { alert: event.key, checkId: event.checkId, kind: event.kind },
          'an incident had no alert queued: queueing it now',
        );
        await this.queue(event);
        queued.push(event);
      }
    }
    return queued;
  }

  /** Queues an alert unless it already has a status (queued before, or settled); says which. */
  async queueOnce(event: AlertEvent): Promise<boolean> {
    if (await this.statuses.get(event.key)) return false;
    await this.queue(event);
    return true;
  }

  /** Queues one alert, delayed until `notBefore` when that is still to come (reminders, escalations, digests). */
  async queue(event: AlertEvent, notBefore?: number): Promise<void> {
    // The job first, then its status: a crash in between leaves a job that writes its own
    // status when it runs, never a `queued` status that no job will ever settle.
    await enqueueAlert(this.jobs, event, DEFAULT_ALERT_RETRY.attempts, notBefore);
    await this.statuses.queued(event);
    this.logger?.info({ alert: event.key, checkId: event.checkId, kind: event.kind }, 'alert queued');
  }
}
