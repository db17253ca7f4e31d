import type { Report, ReportRow } from './compute-report.ts';

/** The CSV's columns, in order. `location` is `all` on a check's total row. */
export const REPORT_CSV_COLUMNS = [
  'check',
  'name',
  'kind',
  'location',
  'runs',
  'failures',
  'degraded',
  'excluded_runs',
  'availability_percent',
  'target_percent',
  'error_budget_allowed_percent',
  'error_budget_left_percent',
  'p50_ms',
  'p95_ms',
  'p99_ms',
] as const;

/** A field as RFC 4180 writes it: quoted (quotes doubled) when it holds a comma, quote or line break. */
export function csvField(value: string | number | undefined): string {
  const text = value === undefined ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The report as RFC 4180 CSV: a header row, then per check a row per location and a total
 * row, lines ended by CRLF. Numbers as in the JSON; a row without runs has empty
 * availability and percentiles.
 */
export function reportCsv(report: Report): string {
  const line = (fields: Array<string | number | undefined>) => `${fields.map(csvField).join(',')}\r\n`;
  const rowLine = (check: Report['checks'][number], row: ReportRow) =>
    line([
      check.id,
      check.name,
      check.kind,
      row.location ?? 'all',
      row.runs,
      row.failures,
      row.degraded,
      row.excludedRuns,
      row.availability,
      report.target,
      row.errorBudget.allowedPercent,
      row.errorBudget.leftPercent,
      row.p50,
      row.p95,
      row.p99,
    ]);
  let csv = line([...REPORT_CSV_COLUMNS]);
  for (const check of report.checks) {
    for (const row of check.locations) csv += rowLine(check, row);
    csv += rowLine(check, check.total);
  }
  return csv;
}
