import type { Incident, IncidentTransition } from '../results/incident-store.ts';

/** `down`: an incident opened; `up`: it ended; `test`: `pathwatch alerts test`. */
export type AlertEventKind = 'down' | 'up' | 'test';

/** What an alert is about, as facts: each channel renders them its own way. */
export interface AlertEvent {
  /**
   * The idempotency key, `<incidentId>.<kind>` (BullMQ refuses ":" in a job id): the alert job's id, the mark that says it
   * was sent, and the seed of its Message-ID. A redone run or a second worker derives the
   * same key for the same incident, so it cannot make a second alert.
   */
  key: string;
  kind: AlertEventKind;
  incidentId: string;
  checkId: string;
  /** The check's or journey's human name (its id when it has none). */
  checkName: string;
  /** `http`, `journey`, … */
  itemKind: string;
  /** `down`: the locations DOWN when it opened; `up`: every location that was DOWN during it. */
  locations: string[];
  /** The error that made the first location DOWN. */
  firstError?: string;
  /** The cross-location verdict, when known at the time of the event. */
  verdict?: string;
  /** When the state changed (epoch ms): the incident's start for `down`, its end for `up`. */
  at: number;
  /** When the incident started (epoch ms). */
  start: number;
  /** `up` only: how long it was down, in ms. */
  downForMs?: number;
}

/** What an alert needs to know about the item it is about. */
export interface AlertItem {
  id: string;
  name: string;
  kind: string;
  /** Overrides `alerting.subject` for this item. */
  alertSubject?: string;
}

export function alertKey(incidentId: string, kind: AlertEventKind): string {
  return `${incidentId}.${kind}`;
}

/**
 * The alert an incident transition makes, if any: `opened` → down, `ended` → up. An
 * `updated` incident (another location joined or recovered) alerts nothing yet.
 */
export function alertEventOf(
  transition: IncidentTransition,
  item: AlertItem | undefined,
): AlertEvent | undefined {
  if (transition.kind === 'updated') return undefined;
  const { incident, change } = transition;
  return incidentAlert(incident, transition.kind === 'opened' ? 'down' : 'up', item, change.at);
}

/** The `down` or `up` alert of an incident as it is stored (`endedAt`: when it ended, if it has no `end` yet). */
export function incidentAlert(
  incident: Incident,
  kind: 'down' | 'up',
  item: AlertItem | undefined,
  endedAt = incident.end ?? incident.start,
): AlertEvent {
  const at = kind === 'down' ? incident.start : (incident.end ?? endedAt);
  return {
    key: alertKey(incident.id, kind),
    kind,
    incidentId: incident.id,
    checkId: incident.checkId,
    checkName: item?.name ?? incident.checkId,
    itemKind: item?.kind ?? 'check',
    locations: kind === 'down' ? [...incident.downNow] : [...incident.locations],
    firstError: incident.firstError,
    verdict: incident.verdict,
    at,
    start: incident.start,
    ...(kind === 'up' ? { downForMs: Math.max(0, at - incident.start) } : {}),
  };
}
