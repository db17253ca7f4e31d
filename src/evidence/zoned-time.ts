/**
 * Whether `zone` is a time zone Intl knows (`Europe/Berlin`, `Asia/Tokyo`, `UTC`); the
 * bundle's times are written in it beside UTC.
 */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock in `zone` at `ms`: fields as numbers, and the zone's offset that day. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** `+01:00`, `-05:00`, `+00:00`. */
  offset: string;
}

/** The wall clock in `zone` at `ms` (one cached Intl formatter per zone). */
export function wallClockIn(ms: number, zone: string): WallClock {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      fractionalSecondDigits: 3,
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    });
    formats.set(zone, format);
  }
  const part = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return {
    year: Number(part.year),
    month: Number(part.month),
    day: Number(part.day),
    hour: Number(part.hour),
    minute: Number(part.minute),
    second: Number(part.second),
    millisecond: Number(part.fractionalSecond),
    // longOffset is "GMT+01:00", or plain "GMT" at offset zero.
    offset: part.timeZoneName === 'GMT' ? '+00:00' : part.timeZoneName.replace('GMT', ''),
  };
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

/** `2026-12-07 15:32`: the wall clock in `zone`, to the minute. */
export function formatZonedMinute(ms: number, zone: string): string {
  const wall = wallClockIn(ms, zone);
  return `${wall.year}-${pad(wall.month)}-${pad(wall.day)} ${pad(wall.hour)}:${pad(wall.minute)}`;
}

/** `2026-12-07 15:32:04.123 +01:00`: a time in `zone`, sortable, with its offset on that day. */
export function formatZoned(ms: number, zone: string): string {
  const wall = wallClockIn(ms, zone);
  return `${formatZonedMinute(ms, zone)}:${pad(wall.second)}.${pad(wall.millisecond, 3)} ${wall.offset}`;
}

/** `2026-12-07 14:32:04.123 UTC`. */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}
