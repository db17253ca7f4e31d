import { createHash } from 'node:crypto';
import type { AlertLanguage } from '../config/alerting-schema.ts';
import { PHASE_LABELS } from '../results/phase-labels.ts';
import type { AlertContext, AlertLocationRow } from './alert-context.ts';
import type { AlertEvent, AlertEventKind } from './alert-event.ts';
import { type AlertMessageKey, type AlertTranslate, alertTranslator } from './alert-mail-messages.ts';
import { stateOfKind, verdictLabel } from './alert-subject.ts';

/** How a row or the headline reads at a glance: failing, recovered, slow, or just information. */
export type MailTone = 'bad' | 'good' | 'warn' | 'info';

export interface MailCell {
  text: string;
  tone?: MailTone;
}

/** One block of a mail, rendered alike as HTML and as plain text. */
export type MailSection =
  | { type: 'facts'; name: string; heading?: string; rows: Array<{ label: string; value: string }> }
  | { type: 'table'; name: string; heading: string; columns: string[]; rows: MailCell[][] }
  | { type: 'text'; name: string; heading: string; lines: string[] }
  | { type: 'image'; name: string; heading: string; cid: string; alt: string; caption: string }
  | {
      type: 'links';
      name: string;
      heading: string;
      links: Array<{ label: string; href: string }>;
      note?: string;
    };

/** An alert mail's content, every string already in the mail's language. */
export interface MailView {
  language: AlertLanguage;
  subject: string;
  headline: string;
  tone: MailTone;
  intro: string[];
  sections: MailSection[];
  footer: string[];
}

const TONE_OF_KIND: Record<AlertEventKind, MailTone> = {
  down: 'bad',
  up: 'good',
  reminder: 'bad',
  escalation: 'bad',
  verdict: 'bad',
  degraded: 'warn',
  'degraded-end': 'good',
  'location-down': 'bad',
  'location-up': 'good',
  'maintenance-start': 'info',
  'maintenance-end': 'info',
  digest: 'bad',
  test: 'info',
  report: 'info',
};

/** Kinds whose mail is about a failure still going on: they carry the failing run's evidence. */
const FAILING_KINDS: readonly AlertEventKind[] = [
  'down',
  'reminder',
  'escalation',
  'verdict',
  'degraded',
  'location-down',
];

/** `2026-12-07T17:12:09Z`: UTC, to the second. */
export function utcTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const DURATION_UNITS: Record<AlertLanguage, { d: string; h: string; min: string; s: string }> = {
  en: { d: ' d', h: ' h', min: ' min', s: ' s' },
  ja: { d: ' 日', h: ' 時間', min: ' 分', s: ' 秒' },
};

/** 192000 → "3 min 12 s" ("3 分 12 秒"): how long something was down, as a person says it. */
export function humanDuration(ms: number, language: AlertLanguage = 'en'): string {
  const unit = DURATION_UNITS[language];
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}${unit.s}`;
  const parts: string[] = [];
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (days) parts.push(`${days}${unit.d}`);
  if (hours) parts.push(`${hours}${unit.h}`);
  if (minutes) parts.push(`${minutes}${unit.min}`);
  if (rest && !days) parts.push(`${rest}${unit.s}`);
  return parts.join(' ');
}

/** `14.2 ms` under 100 ms, else whole milliseconds (as the run page writes them). */
function millis(ms: number, t: AlertTranslate): string {
  return t('ms', { ms: ms < 100 ? ms.toFixed(1) : String(Math.round(ms)) });
}

/** The Content-ID of an alert's inline screenshot: stable per alert, unique across alerts. */
export function screenshotCid(event: AlertEvent): string {
  return `screenshot.${createHash('sha256').update(event.key).digest('hex').slice(0, 16)}@pathwatch`;
}

function stateTone(state: string): MailTone {
  if (state === 'DOWN') return 'bad';
  if (state === 'UP') return 'good';
  if (state === 'DEGRADED') return 'warn';
  return 'info';
}

function stateText(state: string, t: AlertTranslate): string {
  const key = `state.${state}` as AlertMessageKey;
  return ['UP', 'DOWN', 'DEGRADED', 'UNKNOWN', 'NO WORKER'].includes(state) ? t(key) : state;
}

/** The verdict as a sentence in the mail's language; the context's English summary when the name is new. */
function verdictSentence(
  name: string,
  rows: AlertLocationRow[],
  event: AlertEvent,
  context: AlertContext,
  t: AlertTranslate,
): string {
  const counted = rows.filter((row) => row.state === 'DOWN' && !row.probeHostFault);
  const down = (counted.length > 0 ? counted.map((row) => row.id) : event.locations).join(', ');
  const faults = rows.filter((row) => row.probeHostFault).map((row) => row.id);
  const values = { down, faults: (faults.length > 0 ? faults : event.locations).join(', ') };
  const key = `verdict.${name}` as AlertMessageKey;
  const known = ['service', 'outside-path', 'inside-path', 'partial', 'probe-host', 'ok', 'no-data'];
  return known.includes(name) ? t(key, values) : (context.verdict?.summary ?? name);
}

function checkText(event: AlertEvent): string {
  const name = event.checkName ?? event.checkId ?? '';
  return event.checkId && name !== event.checkId ? `${name} (${event.checkId})` : name;
}

/** What the mail is about, first: headline and the sentence under it. */
function headlineOf(event: AlertEvent, context: AlertContext, t: AlertTranslate) {
  const language = event.language;
  const start = event.start ?? event.at;
  const values = {
    check: event.checkName ?? event.checkId ?? '',
    locations: event.locations.join(', '),
    location: event.location ?? event.locations.join(', '),
    name: event.maintenance?.name ?? '',
    count: event.digest?.length ?? 0,
    n: event.reminder ?? 1,
    duration: humanDuration(
      event.kind === 'up' ? (event.downForMs ?? event.at - start) : Math.max(0, event.at - start),
      language,
    ),
    start: utcTime(start),
    end: utcTime(event.at),
  };
  const headline = t(`headline.${event.kind}` as AlertMessageKey, values);
  const intro = [t(`intro.${event.kind}` as AlertMessageKey, values)];
  const verdictName = context.verdict?.name ?? event.verdict;
  if (verdictName && ['down', 'reminder', 'escalation', 'verdict'].includes(event.kind)) {
    intro.push(verdictSentence(verdictName, context.locations, event, context, t));
  }
  return { headline, intro };
}

/** The facts every mail of its kind states, as label and value. */
function factsOf(
  event: AlertEvent,
  context: AlertContext,
  t: AlertTranslate,
): Array<{ label: string; value: string }> {
  const rows: Array<{ label: string; value: string }> = [];
  const add = (label: AlertMessageKey, value: string | undefined) => {
    if (value) rows.push({ label: t(label), value });
  };
  const language = event.language;
  switch (event.kind) {
    case 'location-down':
    case 'location-up':
      add('location', event.location);
      add('check', checkText(event));
      add('state', stateOfKind(event.kind));
      add('when', utcTime(event.at));
      break;
    case 'maintenance-start':
    case 'maintenance-end': {
      const window = event.maintenance;
      add('state', stateOfKind(event.kind));
      if (window) {
        add('maintenanceWindow', `${utcTime(window.start)} – ${utcTime(window.end)}`);
        add('maintenanceScope', window.scope || t('maintenanceScopeAll'));
        add('maintenanceReason', window.reason);
      }
      break;
    }
    case 'digest':
    case 'test':
      add('state', stateOfKind(event.kind));
      add('list', event.list);
      add('when', utcTime(event.at));
      break;
    default: {
      add('check', checkText(event));
      add('kind', event.itemKind);
      add('state', stateOfKind(event.kind));
      const verdict = context.verdict?.name ?? event.verdict;
      if (event.kind !== 'up' && event.kind !== 'degraded-end')
        add('verdict', verdictLabel(verdict, language));
      const locationsLabel: AlertMessageKey =
        event.kind === 'up'
          ? 'locationsWereDown'
          : event.kind.startsWith('degraded')
            ? 'locationsDegraded'
            : 'locationsDown';
      add(locationsLabel, event.locations.join(', '));
      if (event.kind === 'up') {
        add('downSince', event.start === undefined ? undefined : utcTime(event.start));
        add('recoveredAt', utcTime(event.at));
        add('downFor', event.downForMs === undefined ? undefined : humanDuration(event.downForMs, language));
      } else {
        // A down mail's time is the incident's start: "since" says something only later.
        const since =
          event.start !== undefined && event.start !== event.at && !event.kind.startsWith('degraded');
        add('downSince', since ? utcTime(event.start ?? 0) : undefined);
        add('when', utcTime(event.at));
      }
      if (event.kind === 'reminder') add('reminder', String(event.reminder ?? 1));
      add('incident', event.incidentId);
    }
  }
  return rows;
}

/** The failing step and error with what to do; the event's first error when the run is gone. */
function errorSection(event: AlertEvent, context: AlertContext, t: AlertTranslate): MailSection | undefined {
  const run = context.run;
  const rows: Array<{ label: string; value: string }> = [];
  if (run) {
    if (run.step) rows.push({ label: t('step'), value: run.step });
    if (run.error) {
      rows.push({ label: t('error'), value: run.error.message });
      const code = [run.error.code, run.error.class].filter(Boolean).join(' / ');
      if (code) rows.push({ label: t('errorCode'), value: code });
    }
    if (run.whatToDo) rows.push({ label: t('whatToDo'), value: run.whatToDo });
    rows.push({
      label: t('errorAt'),
      value: t('runAt', { runId: run.runId, location: run.location, time: utcTime(run.startedAt) }),
    });
  } else if (event.firstError) {
    rows.push({ label: t('firstError'), value: event.firstError });
  }
  return rows.length > 0 ? { type: 'facts', name: 'error', heading: t('errorHeading'), rows } : undefined;
}

/** A table of one row per item, or no section at all where there is no item. */
function tableSection<Item>(
  head: { name: string; heading: string; columns: string[] },
  items: readonly Item[],
  row: (item: Item) => MailCell[],
): MailSection | undefined {
  return items.length === 0 ? undefined : { type: 'table', ...head, rows: items.map(row) };
}

function stateTableSection(context: AlertContext, t: AlertTranslate): MailSection | undefined {
  const columns = [t('tableLocation'), t('tableSide'), t('tableState'), t('tableSince'), t('tableLastError')];
  return tableSection(
    { name: 'locations', heading: t('tableHeading'), columns },
    context.locations,
    (row) => [
      { text: row.description ? `${row.id} — ${row.description}` : row.id },
      { text: t(`side.${row.side}` as AlertMessageKey) },
      {
        text: `${stateText(row.state, t)}${row.probeHostFault ? ` (${t('probeHostFault')})` : ''}`,
        tone: row.probeHostFault ? 'warn' : stateTone(row.state),
      },
      { text: row.since ? utcTime(row.since) : '' },
      // An UP location's last error is history, not news: shown only where it is not passing.
      { text: row.state === 'UP' ? '' : (row.lastError ?? '') },
    ],
  );
}

function timingsSection(context: AlertContext, t: AlertTranslate): MailSection | undefined {
  const columns = [t('timingsPhase'), t('timingsThisRun'), t('timingsUsual')];
  return tableSection(
    { name: 'timings', heading: t('timingsHeading'), columns },
    context.timings,
    (timing) => {
      const label = timing.phase.startsWith('step:')
        ? t('phase.step', { name: timing.phase.slice('step:'.length) })
        : Object.hasOwn(PHASE_LABELS.en, timing.phase)
          ? t(`phase.${timing.phase}` as AlertMessageKey)
          : timing.phase;
      // Twice the usual and 50 ms more: slow enough to be part of the story.
      const slow =
        timing.medianMs !== undefined && timing.ms > 2 * timing.medianMs && timing.ms - timing.medianMs > 50;
      return [
        { text: label },
        { text: millis(timing.ms, t), tone: slow ? 'bad' : undefined },
        { text: timing.medianMs === undefined ? t('timingsNoUsual') : millis(timing.medianMs, t) },
      ];
    },
  );
}

function linksSection(context: AlertContext, t: AlertTranslate): MailSection | undefined {
  const { links } = context;
  const order = ['runPage', 'traceViewer', 'trace', 'capture', 'bundle'] as const;
  const shown = order.flatMap((name) => {
    const href = links[name];
    // Only web addresses: a link a mail client would open as anything else is not ours.
    return href && /^https?:\/\//.test(href) ? [{ label: t(`link.${name}`), href }] : [];
  });
  if (shown.length === 0) return undefined;
  return {
    type: 'links',
    name: 'links',
    heading: t('linksHeading'),
    links: shown,
    ...(links.expiresAt ? { note: t('linksExpire', { time: utcTime(links.expiresAt) }) } : {}),
  };
}

function digestSection(event: AlertEvent, t: AlertTranslate): MailSection | undefined {
  const columns = [
    t('digestTime'),
    t('digestWhat'),
    t('digestItem'),
    t('digestLocations'),
    t('digestDetail'),
  ];
  return tableSection(
    { name: 'digest', heading: t('digestHeading'), columns },
    event.digest ?? [],
    (entry) => [
      { text: utcTime(entry.at) },
      { text: stateOfKind(entry.kind), tone: TONE_OF_KIND[entry.kind] },
      {
        text:
          entry.checkName && entry.checkName !== entry.checkId
            ? `${entry.checkName} (${entry.checkId})`
            : (entry.checkId ?? entry.checkName ?? ''),
      },
      { text: entry.locations.join(', ') },
      { text: [verdictLabel(entry.verdict, event.language), entry.firstError].filter(Boolean).join(' — ') },
    ],
  );
}

/** Everything an alert mail says, in order, in the event's language. */
export function alertMailView(event: AlertEvent, context: AlertContext, subject: string): MailView {
  const t = alertTranslator(event.language);
  const { headline, intro } = headlineOf(event, context, t);
  const failing = FAILING_KINDS.includes(event.kind);
  const sections: Array<MailSection | undefined> = [
    { type: 'facts', name: 'facts', rows: factsOf(event, context, t) },
  ];
  if (failing) sections.push(errorSection(event, context, t));
  if (event.kind === 'maintenance-end') {
    const stillDown = event.maintenance?.stillDown ?? [];
    sections.push({
      type: 'text',
      name: 'still-down',
      heading: t('stillDownHeading'),
      lines: stillDown.length > 0 ? stillDown : [t('stillDownNone')],
    });
  }
  sections.push(digestSection(event, t));
  sections.push(stateTableSection(context, t));
  if (failing) {
    sections.push(timingsSection(context, t));
    if (context.screenshot) {
      sections.push({
        type: 'image',
        name: 'screenshot',
        heading: t('screenshotHeading'),
        cid: screenshotCid(event),
        alt: t('screenshotAlt', {
          check: event.checkName ?? event.checkId ?? '',
          location: context.run?.location ?? event.locations.join(', '),
        }),
        caption: t('screenshotAttached', { filename: context.screenshot.filename }),
      });
    }
    if (context.diagnosis) {
      sections.push({
        type: 'text',
        name: 'diagnosis',
        heading: t('diagnosisHeading'),
        lines: [context.diagnosis],
      });
    }
  }
  sections.push(linksSection(context, t));
  return {
    language: event.language,
    subject,
    headline,
    tone: TONE_OF_KIND[event.kind],
    intro,
    sections: sections.filter((section): section is MailSection => section !== undefined),
    footer: [t('timesNote'), t('footer')],
  };
}
