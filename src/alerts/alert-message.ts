import type { AlertEvent } from './alert-event.ts';

/** An alert as a mail: one-line subject, plain text and HTML bodies (UTF-8). */
export interface AlertMail {
  subject: string;
  text: string;
  html: string;
}

/** The subject when neither `alerting.subject` nor the check's `alertSubject` is set (the schema's default). */
export const DEFAULT_ALERT_SUBJECT = '[pathwatch] {{check}} is {{state}} at {{location}}';

const STATE_OF_KIND: Record<AlertEvent['kind'], string> = { down: 'DOWN', up: 'UP', test: 'TEST' };

/** The values of the subject placeholders (SUBJECT_PLACEHOLDERS in config-schema.ts). */
function placeholderValues(event: AlertEvent): Record<string, string> {
  return {
    check: event.checkName,
    checkId: event.checkId,
    state: STATE_OF_KIND[event.kind],
    location: event.locations.join(', '),
    verdict: event.verdict ?? '',
    error: event.firstError ?? '',
    kind: event.itemKind,
  };
}

/**
 * Fills `{{name}}` placeholders. The config refuses unknown ones, so one left here is kept
 * as written rather than guessed. Line breaks become spaces: a subject is one header line.
 */
export function renderSubject(template: string, event: AlertEvent): string {
  const values = placeholderValues(event);
  return template
    .replace(/\{\{\s*([^}\s]+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole)
    .replace(/[\r\n]+/g, ' ')
    .trim();
}

/** 192000 → "3 min 12 s": how long something was down, as a person says it. */
export function humanDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const parts: string[] = [];
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (days) parts.push(`${days} d`);
  if (hours) parts.push(`${hours} h`);
  if (minutes) parts.push(`${minutes} min`);
  if (rest && !days) parts.push(`${rest} s`);
  return parts.join(' ');
}

/** The facts every alert mail states, in order, as label and value. */
function factRows(event: AlertEvent): Array<[string, string]> {
  const rows: Array<[string, string]> = [
    ['Check', event.checkName === event.checkId ? event.checkId : `${event.checkName} (${event.checkId})`],
    ['State', STATE_OF_KIND[event.kind]],
  ];
  if (event.kind !== 'test') {
    rows.push([
      event.kind === 'down' ? 'Locations down' : 'Locations that were down',
      event.locations.join(', '),
    ]);
  }
  if (event.verdict) rows.push(['Verdict', event.verdict]);
  if (event.firstError) rows.push(['First error', event.firstError]);
  rows.push([event.kind === 'up' ? 'Recovered at' : 'When', new Date(event.at).toISOString()]);
  if (event.kind === 'up' && event.downForMs !== undefined) {
    rows.push([
      'Down for',
      `${humanDuration(event.downForMs)} (since ${new Date(event.start).toISOString()})`,
    ]);
  }
  return rows;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * The mail for an alert, minimal for now: the templated subject and the facts as text and
 * as a simple table. The rich content (inline screenshot, links to the run page and trace,
 * the verdict table per location) belongs here, as more rows and sections built from the
 * event: channels only send what this returns.
 */
export function renderAlertMail(event: AlertEvent, subjectTemplate = DEFAULT_ALERT_SUBJECT): AlertMail {
  const subject = renderSubject(subjectTemplate, event);
  const rows = factRows(event);
  const width = Math.max(...rows.map(([label]) => label.length));
  const text = `${[subject, '', ...rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`)].join('\n')}\n`;
  const html = [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"></head><body style="font-family:sans-serif">',
    `<h2>${escapeHtml(subject)}</h2>`,
    '<table cellpadding="4" style="border-collapse:collapse">',
    ...rows.map(
      ([label, value]) =>
        `<tr><th align="left" valign="top">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`,
    ),
    '</table>',
    '</body></html>',
  ].join('\n');
  return { subject, text, html };
}
