import type { ReportMailSettings } from '../config/reports-schema.ts';
import { wallClockIn } from '../evidence/zoned-time.ts';
import { HOUR_MS, type ReportWindow } from './report-window.ts';

/** A calendar month as the report names it: `2026-11`. */
export type ReportMonth = string;

const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Why `text` is not a month `YYYY-MM`, or undefined when it is one. */
export function reportMonthProblem(text: string): string | undefined {
  return MONTH_PATTERN.test(text)
    ? undefined
    : `expected a month "YYYY-MM" such as "2026-11", got ${JSON.stringify(text)}`;
}

function parts(month: ReportMonth): { year: number; month: number } {
  const match = MONTH_PATTERN.exec(month);
  if (!match) throw new Error(reportMonthProblem(month));
  return { year: Number(match[1]), month: Number(match[2]) };
}

const format = (year: number, month: number): ReportMonth => `${year}-${String(month).padStart(2, '0')}`;

/** The month after (`step` 1) or before (`step` −1) `month`. */
export function shiftMonth(month: ReportMonth, step: number): ReportMonth {
  const { year, month: index } = parts(month);
  const zeroBased = year * 12 + (index - 1) + step;
  return format(Math.floor(zeroBased / 12), (zeroBased % 12) + 1);
}

/** How far `zone` is ahead of UTC at `ms`, in ms. */
function offsetAt(ms: number, zone: string): number {
  const wall = wallClockIn(ms, zone);
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second);
  return asUtc - (ms - (ms % 1000));
}

/**
 * The instant a wall-clock time in `zone` names. Asked twice because the offset may change
 * between the guess and the answer (a DST switch that night); a time skipped by a switch
 * comes out just after it.
 */
export function zonedTime(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - offsetAt(wall, zone);
  return wall - offsetAt(first, zone);
}

/** The calendar month `ms` falls in, in `zone`. */
export function monthAt(ms: number, zone: string): ReportMonth {
  const wall = wallClockIn(ms, zone);
  return format(wall.year, wall.month);
}

/**
 * The hours a month's report covers: from its first midnight to the next month's, in
 * `zone`. Rollups are hourly, so a zone whose offset is not whole hours (India, +05:30)
 * takes the hour its midnight falls in, as reportWindow takes the hour its end falls in.
 */
export function monthWindow(month: ReportMonth, zone: string): ReportWindow {
  const { year, month: index } = parts(month);
  const next = parts(shiftMonth(month, 1));
  const start = zonedTime(zone, year, index, 1);
  const end = zonedTime(zone, next.year, next.month, 1);
  return {
    period: 'month',
    from: Math.ceil(start / HOUR_MS) * HOUR_MS,
    to: Math.ceil(end / HOUR_MS) * HOUR_MS,
  };
}

/** When a month's report is due: `day` at `at` of the month after it, in `timezone`. */
export function sendMomentOf(
  month: ReportMonth,
  settings: Pick<ReportMailSettings, 'day' | 'at' | 'timezone'>,
): number {
  const next = parts(shiftMonth(month, 1));
  const [hour, minute] = settings.at.split(':').map(Number);
  return zonedTime(settings.timezone, next.year, next.month, settings.day, hour, minute);
}

/**
 * The month whose report was due most recently at `now` (its moment passed: it is owed,
 * or sent), and the one due next.
 */
export function reportMonthsAround(
  now: number,
  settings: Pick<ReportMailSettings, 'day' | 'at' | 'timezone'>,
): { due: ReportMonth; next: ReportMonth } {
  const previous = shiftMonth(monthAt(now, settings.timezone), -1);
  return sendMomentOf(previous, settings) <= now
    ? { due: previous, next: shiftMonth(previous, 1) }
    : { due: shiftMonth(previous, -1), next: previous };
}
