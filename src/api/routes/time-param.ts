import { z } from 'zod';

/** `2026-12-07`, `2026-12-07T14:00Z`, `2026-12-07T14:00:00.5+01:00`: a date, or a time with its zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A point in time as a query parameter: ISO 8601 with its zone (a bare date is midnight
 * UTC), or epoch milliseconds. A time without a zone is refused rather than read in the
 * server's zone, which the caller cannot see.
 */
export function timeParam() {
  return z
    .string()
    .refine((raw) => (/^\d{1,15}$/.test(raw) || ISO_TIME.test(raw)) && Number.isFinite(parseTime(raw)), {
      error: 'must be a time: ISO 8601 with a zone ("2026-12-07T14:00:00Z") or epoch milliseconds',
    })
    .transform(parseTime);
}

function parseTime(raw: string): number {
  return /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
}
