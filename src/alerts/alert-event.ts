import type { AlertLanguage } from '../config/alerting-schema.ts';

/**
 * What an alert is about:
 * - `down` an incident opened; `up` it ended; `reminder` it is still open; `escalation` it
 *   was not recovered in time (to the escalation lists); `verdict` its cross-location
 *   verdict changed after the down mail;
 * - `degraded` / `degraded-end` a location turned DEGRADED, and back (routes that ask);
 * - `location-down` / `location-up` a probe host's control check failed, and recovered:
 *   one mail about the location instead of one per check there;
 * - `maintenance-start` / `maintenance-end` a window began or ended;
 * - `digest` the alerts a storm window folded into one mail;
 * - `test` `pathwatch alerts test`;
 * - `report` the monthly availability report (src/reports/monthly-report-*.ts).
 */
const CHECK_KINDS = ['down', 'up', 'reminder', 'escalation', 'verdict', 'degraded', 'degraded-end'] as const;

/** Every kind of alert: a check's, then a location's, maintenance's, the storm digest, a test and the monthly report. */
export const ALERT_EVENT_KINDS = [
  ...CHECK_KINDS,
  'location-down',
  'location-up',
  'maintenance-start',
  'maintenance-end',
  'digest',
  'test',
  'report',
] as const;

export type AlertEventKind = (typeof ALERT_EVENT_KINDS)[number];

/** The kinds about one check or journey: they take the check's subject, routes and storm counting. */
export const CHECK_ALERT_KINDS: readonly AlertEventKind[] = CHECK_KINDS;

export type AlertChannelName = 'email' | 'webhook';

/** One alert folded into a digest: enough to list it on one line. */
export interface DigestEntry {
  key: string;
  kind: AlertEventKind;
  checkId?: string;
  checkName?: string;
  locations: string[];
  verdict?: string;
  firstError?: string;
  at: number;
  incidentId?: string;
}

/** A maintenance window occurrence, as an announcement states it. */
export interface MaintenanceOccurrence {
  name: string;
  reason?: string;
  /** Epoch ms. */
  start: number;
  end: number;
  /** What it covers, e.g. `checks: shop; locations: outside` (empty: everything). */
  scope: string;
  /** `maintenance-end` only: names of the covered items still DOWN as it ends. */
  stillDown?: string[];
}

/**
 * One alert to one recipient list through one channel, as facts: each channel renders them
 * its own way, from these and the evidence gathered when it is sent (AlertContext).
 */
export interface AlertEvent {
  /**
   * The idempotency key, `<what>.<kind>[.<n>].<list>.<channel>` (BullMQ refuses ":" in a job
   * id): the alert job's id, the mark that says it was sent, and the seed of its Message-ID.
   * A redone run or a second worker derives the same key for the same alert, so it cannot
   * make a second one.
   */
  key: string;
  kind: AlertEventKind;
  /** The recipient list it goes to (`default`: `alerting.to`). */
  list: string;
  channel: AlertChannelName;
  language: AlertLanguage;
  /** The subject template chosen for this list and item (item, then route, then alerting.subject). */
  subjectTemplate?: string;
  incidentId?: string;
  /** The check or journey it is about (`test`, `maintenance-*`, `location-*`, `digest`: none or the control check). */
  checkId?: string;
  /** The check's or journey's human name (its id when it has none). */
  checkName?: string;
  /** `http`, `journey`, … */
  itemKind?: string;
  /** The item's tags, for routes and maintenance windows. */
  tags?: string[];
  /** `down`/`reminder`/`escalation`/`verdict`: locations DOWN; `up`: every location that was DOWN; `degraded*`: that location. */
  locations: string[];
  /** `location-*`: the location whose probe host is at fault. */
  location?: string;
  /** The error that made the first location DOWN. */
  firstError?: string;
  /** The cross-location verdict when the event was made (the worker reads it again before sending). */
  verdict?: string;
  /** When the state changed (epoch ms): the incident's start for `down`, its end for `up`, the due time of a reminder. */
  at: number;
  /** When the incident started (epoch ms). */
  start?: number;
  /** `up` only: how long it was down, in ms. */
  downForMs?: number;
  /** `reminder`: which one (1, 2, …). */
  reminder?: number;
  /**
   * `down`: until when (epoch ms) the worker waits for the slot's other locations and the
   * control checks before it judges the verdict (about one interval and timeout).
   */
  settleBy?: number;
  maintenance?: MaintenanceOccurrence;
  /** `digest`: what the storm window folded, in order. */
  digest?: DigestEntry[];
}

/** What an alert needs to know about the item it is about. */
export interface AlertItem {
  id: string;
  name: string;
  kind: string;
  tags: string[];
  /** Overrides the route's and `alerting.subject` for this item. */
  alertSubject?: string;
  /** Every how long it runs, and how long a run may take (ms): how long a verdict may wait. */
  intervalMs: number;
  timeoutMs: number;
  /** Counted failures in a row that make it DOWN. */
  downAfter: number;
  /** Locations it runs at. */
  locations: string[];
  /** It is the control check of these locations: its incidents are about them. */
  controlOf: string[];
}

/** `<what>.<kind>[.<n>].<list>.<channel>`: see AlertEvent.key. */
export function alertKey(
  what: string,
  kind: AlertEventKind,
  list: string,
  channel: AlertChannelName,
  n?: number,
): string {
  return [what, kind, ...(n === undefined ? [] : [String(n)]), list, channel].join('.');
}
