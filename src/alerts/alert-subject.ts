import type { AlertLanguage } from '../config/alerting-schema.ts';
import type { AlertContext } from './alert-context.ts';
import type { AlertEvent, AlertEventKind } from './alert-event.ts';
import { DEFAULT_SUBJECT_TEMPLATE, renderSubjectTemplate, type SubjectValues } from './subject-template.ts';

/** `{{state}}` of each kind: what a recipient scans the inbox for. */
const STATE_OF_KIND: Record<AlertEventKind, string> = {
  down: 'DOWN',
  up: 'UP',
  reminder: 'STILL DOWN',
  escalation: 'ESCALATED',
  verdict: 'DOWN (verdict changed)',
  degraded: 'DEGRADED',
  'degraded-end': 'UP',
  'location-down': 'PROBE HOST DOWN',
  'location-up': 'PROBE HOST UP',
  'maintenance-start': 'MAINTENANCE',
  'maintenance-end': 'MAINTENANCE OVER',
  digest: 'DIGEST',
  test: 'TEST',
  report: 'REPORT',
};

const RECOVERY_KINDS = new Set<AlertEventKind>(['up', 'degraded-end', 'location-up']);

/** Kinds about a check that is DOWN now. */
const DOWN_KINDS = new Set<AlertEventKind>(['down', 'reminder', 'escalation', 'verdict']);

/** Verdict names as a subject says them: where the fault is, in a few words. */
const VERDICT_LABELS: Record<AlertLanguage, Record<string, string>> = {
  en: {
    service: 'from everywhere (service)',
    'outside-path': 'outside only (path)',
    'inside-path': 'inside only (path)',
    partial: 'some locations',
    'probe-host': 'probe host at fault',
    ok: 'passing',
    'no-data': 'no data',
  },
  ja: {
    service: '全拠点 (サービス)',
    'outside-path': '外部のみ (経路)',
    'inside-path': '内部のみ (経路)',
    partial: '一部の拠点',
    'probe-host': '監視ホストの障害',
    ok: '正常',
    'no-data': 'データなし',
  },
};

export function verdictLabel(
  verdict: string | undefined,
  language: AlertLanguage = 'en',
): string | undefined {
  if (!verdict) return undefined;
  return VERDICT_LABELS[language][verdict] ?? verdict;
}

export function stateOfKind(kind: AlertEventKind): string {
  return STATE_OF_KIND[kind];
}

/** The values of the subject variables (SUBJECT_VARIABLES) for one alert and its evidence. */
export function subjectValues(event: AlertEvent, context?: AlertContext): SubjectValues {
  const verdict = context?.verdict?.name ?? event.verdict;
  // A recovery names what recovered, not the failure it recovered from.
  const recovery = RECOVERY_KINDS.has(event.kind);
  // Where it is DOWN as the state table shows it, read with the verdict: the incident's own
  // list can lag a location that went DOWN in the same slot by the moment its run is recorded.
  const downRows = (context?.locations ?? []).filter((row) => row.state === 'DOWN').map((row) => row.id);
  const locations = event.location
    ? [event.location]
    : DOWN_KINDS.has(event.kind) && downRows.length > 0
      ? downRows
      : event.locations;
  return {
    check: event.checkName ?? event.maintenance?.name ?? event.location ?? '',
    checkId: event.checkId ?? '',
    state: STATE_OF_KIND[event.kind],
    // An up mail is not about where it failed, and "ok" or "no data" place nothing: no verdict in the subject.
    verdict:
      recovery || verdict === 'ok' || verdict === 'no-data'
        ? ''
        : (verdictLabel(verdict, event.language) ?? ''),
    locations: locations.join(', '),
    location: locations.join(', '),
    step: recovery ? '' : (context?.run?.step ?? ''),
    error: recovery ? '' : (context?.run?.error?.message ?? event.firstError ?? ''),
    code: recovery ? '' : (context?.run?.error?.code ?? ''),
    time: new Date(event.at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    kind: event.itemKind ?? '',
  };
}

/**
 * The subject line of an alert: the event's template (item, route or `alerting.subject`)
 * filled from the event and its evidence. Digests, maintenance and location alerts have
 * their own fixed form: a per-check template does not fit them.
 */
export function alertSubject(event: AlertEvent, context?: AlertContext): string {
  if (event.kind === 'digest') {
    const count = event.digest?.length ?? 0;
    return event.language === 'ja'
      ? `[pathwatch] ダイジェスト: ${count} 件の変化`
      : `[pathwatch] DIGEST: ${count} alert${count === 1 ? '' : 's'} in a storm`;
  }
  if (event.kind === 'maintenance-start' || event.kind === 'maintenance-end') {
    const name = event.maintenance?.name ?? '';
    if (event.language === 'ja') {
      return `[pathwatch] メンテナンス${event.kind === 'maintenance-start' ? '開始' : '終了'}: ${name}`;
    }
    return `[pathwatch] MAINTENANCE ${event.kind === 'maintenance-start' ? 'STARTED' : 'ENDED'}: ${name}`;
  }
  if (event.kind === 'location-down' || event.kind === 'location-up') {
    const down = event.kind === 'location-down';
    if (event.language === 'ja') {
      return `[pathwatch] 監視ホスト${down ? '障害' : '復旧'}: ${event.location}`;
    }
    return down
      ? `[pathwatch] PROBE HOST DOWN at ${event.location}: its checks there are not judged`
      : `[pathwatch] PROBE HOST UP at ${event.location}: its checks there are judged again`;
  }
  return renderSubjectTemplate(
    event.subjectTemplate ?? DEFAULT_SUBJECT_TEMPLATE,
    subjectValues(event, context),
  );
}
