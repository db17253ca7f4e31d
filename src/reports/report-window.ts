export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** The periods a report covers, in hours: a month is 30 days (the rollups' default keep). */
export const REPORT_PERIOD_HOURS = { day: 24, week: 7 * 24, month: 30 * 24 } as const;
export type ReportPeriod = keyof typeof REPORT_PERIOD_HOURS;
export const REPORT_PERIODS = Object.keys(REPORT_PERIOD_HOURS) as ReportPeriod[];

/** The whole hours a report covers: [from, to), `to` on an hour boundary. */
export interface ReportWindow {
  period: ReportPeriod;
  from: number;
  to: number;
}

/**
 * The period's hours ending at `end`, in whole hours since rollups are hourly: `end` in the
 * middle of an hour takes that hour in (a report "now" shows the current hour so far), `end`
 * on a boundary does not (end=2026-12-01T00:00Z with period=month is the 30 days before).
 */
export function reportWindow(period: ReportPeriod, end: number): ReportWindow {
  const to = Math.ceil(end / HOUR_MS) * HOUR_MS;
  return { period, from: to - REPORT_PERIOD_HOURS[period] * HOUR_MS, to };
}
