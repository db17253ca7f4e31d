import { HOUR_MS } from '../reports/report-window.ts';
import type { ConsoleMessageKey } from './console-messages.ts';

/** Ranges the check page offers, in hours: a day, a week, a month. */
export const CHECK_RANGES = [24, 168, 720] as const;

/**
 * The time a check page covers: [from, to). Rollups are hourly, so charts and availability
 * count the whole hours it touches (`hourStarts`); runs and missed slots follow it exactly.
 */
export interface CheckRange {
  from: number;
  to: number;
  /** The preset (hours) chosen, absent for a custom range. */
  preset?: number;
  /** A custom range asked without `to`: it ends now, and its links keep it so. */
  toNow?: boolean;
  /** Start of every hour the range touches, oldest first. */
  hourStarts: number[];
}

/** Why a range was refused: the query field at fault and the words (a message key and values). */
export interface CheckRangeError {
  field: 'from' | 'to' | 'hours';
  key: Extract<
    ConsoleMessageKey,
    `range${'BadTime' | 'NoFrom' | 'Reversed' | 'Future' | 'TooOld' | 'BadHours'}`
  >;
  values: Record<string, string | number>;
}

/** What a person types or a datetime-local input sends, with seconds or a zone optional. */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

/** datetime-local's own form of a time, in UTC: what the range inputs show. */
export function utcInputValue(at: number): string {
  return new Date(at).toISOString().slice(0, 16);
}

/**
 * A time from the query: ISO 8601, read as UTC when it names no zone (the console shows UTC
 * everywhere). Undefined when it is not a real date and time (Feb 30 is refused, not rolled).
 */
function parseTime(text: string): number | undefined {
  const match = ISO_TIME.exec(text.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second = '0', zone] = match;
  const asUtc = Date.UTC(+year, +month - 1, +day, +hour, +minute, +second);
  const probe = new Date(asUtc);
  if (
    probe.getUTCFullYear() !== +year ||
    probe.getUTCMonth() !== +month - 1 ||
    probe.getUTCDate() !== +day ||
    +hour > 23 ||
    +minute > 59 ||
    +second > 59
  )
    return undefined;
  const at = Date.parse(zone ? text.trim().replace(' ', 'T') : `${text.trim().replace(' ', 'T')}Z`);
  return Number.isFinite(at) ? at : undefined;
}

function hourStartsOf(from: number, to: number): number[] {
  const first = from - (from % HOUR_MS);
  const last = to - 1 - ((to - 1) % HOUR_MS);
  const starts: number[] = [];
  for (let hour = first; hour <= last; hour += HOUR_MS) starts.push(hour);
  return starts;
}

/**
 * The range a check page's query asks for: `from`/`to` (a custom range; `to` left empty is
 * now, and a `to` later than now is now) or else `hours`, one of CHECK_RANGES (the last day
 * when absent). A range the page cannot show (not a time, reversed, in the
 * future, or reaching before the rollups kept) is refused with the field at fault.
 */
export function parseCheckRange(
  query: { hours?: string; from?: string; to?: string },
  keepDays: number,
  now = Date.now(),
): { range: CheckRange } | { error: CheckRangeError } {
  const fromText = query.from?.trim() ?? '';
  const toText = query.to?.trim() ?? '';
  if (fromText === '' && toText === '') {
    const hoursText = query.hours?.trim() || '24';
    const hours = Number(hoursText);
    if (!(CHECK_RANGES as readonly number[]).includes(hours))
      return {
        error: {
          field: 'hours',
          key: 'rangeBadHours',
          values: { choices: CHECK_RANGES.join(', '), value: hoursText.slice(0, 40) },
        },
      };
    const current = now - (now % HOUR_MS);
    const hourStarts = Array.from({ length: hours }, (_, index) => current - (hours - 1 - index) * HOUR_MS);
    return { range: { from: now - hours * HOUR_MS, to: now, preset: hours, hourStarts } };
  }
  const example = utcInputValue(now - HOUR_MS);
  if (fromText === '') return { error: { field: 'from', key: 'rangeNoFrom', values: { example } } };
  const from = parseTime(fromText);
  if (from === undefined)
    return {
      error: { field: 'from', key: 'rangeBadTime', values: { example, value: fromText.slice(0, 40) } },
    };
  let to = now;
  if (toText !== '') {
    const parsed = parseTime(toText);
    if (parsed === undefined)
      return { error: { field: 'to', key: 'rangeBadTime', values: { example, value: toText.slice(0, 40) } } };
    to = Math.min(parsed, now);
  }
  if (from >= now)
    return { error: { field: 'from', key: 'rangeFuture', values: { now: utcInputValue(now) } } };
  if (from >= to)
    return { error: { field: 'to', key: 'rangeReversed', values: { from: utcInputValue(from) } } };
  const oldest = now - keepDays * 24 * HOUR_MS;
  if (from < oldest)
    return {
      error: { field: 'from', key: 'rangeTooOld', values: { days: keepDays, oldest: utcInputValue(oldest) } },
    };
  return { range: { from, to, toNow: toText === '', hourStarts: hourStartsOf(from, to) } };
}
