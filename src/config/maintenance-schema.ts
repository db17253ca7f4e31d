import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { timeZoneSetting } from './time-zone-setting.ts';
import { uniqueNames } from './unique-names.ts';
import { duration, expected, identifier, showValue, strictObject } from './zod-helpers.ts';

const isoTime = z.iso.datetime({
  offset: true,
  error: (issue) =>
    `expected a time with its offset such as "2026-12-24T22:00:00+01:00", got ${JSON.stringify(issue.input)}`,
});

/** The five fields a maintenance cron has; a seconds field would make windows no one meant. */
const CRON_FIELDS = 5;
const CRON_EXPECTED =
  'a 5-field cron expression (minute hour day-of-month month day-of-week) such as "0 2 * * SUN"';

/**
 * Why `expression` is not a maintenance cron, or undefined when it is one. cron-parser alone
 * takes "" and "* * * *" (filling fields in) and six fields (seconds), none of which an
 * operator writing a weekly window means.
 */
export function cronProblem(expression: string): string | undefined {
  const fields = expression.trim().split(/\s+/).filter(Boolean);
  if (fields.length !== CRON_FIELDS)
    return `expected ${CRON_EXPECTED}, got ${showValue(expression)} (${fields.length} field${fields.length === 1 ? '' : 's'})`;
  try {
    CronExpressionParser.parse(expression);
    return undefined;
  } catch (error) {
    return `not a valid cron expression: ${showValue(expression)} (${(error as Error).message}); expected ${CRON_EXPECTED}`;
  }
}

/** A list of ids that, when given, names at least one: `checks: []` covering nothing is a mistake. */
function idList(what: string) {
  return z
    .array(z.string({ error: expected(`a ${what} id`) }).min(1, { error: `must not be empty` }), {
      error: expected(`a list of ${what} ids`),
    })
    .min(1, { error: `must name at least one ${what}; leave it out to cover every ${what}` });
}

/**
 * One maintenance window: one-off (`start` and `end`) or recurring (`cron` and `duration`),
 * over the checks, tags and locations it names (all of them must match; none named: everything).
 */
export const maintenanceSchema = strictObject(
  {
    name: identifier('maintenance window').describe(
      'Names the window in mails, the API and history; unique across the config and the API. Required.',
    ),
    reason: z
      .string()
      .max(500)
      .optional()
      .describe('Shown in the announcements: "database upgrade". Default none.'),
    checks: idList('check').optional().describe('Check or journey ids it covers. Default all.'),
    tags: idList('tag').optional().describe('Tags it covers: an item with any of them. Default all.'),
    locations: idList('location')
      .optional()
      .describe(
        'Locations it covers: an alert is held back only when every location it is about is one of them. Default all.',
      ),
    start: isoTime.optional().describe('One-off: when it starts, with its offset. Default none.'),
    end: isoTime.optional().describe('One-off: when it ends, after `start`. Default none.'),
    cron: z
      .string({ error: expected(CRON_EXPECTED) })
      .superRefine((expression, ctx) => {
        const problem = cronProblem(expression);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional()
      .describe(
        'Recurring: when each occurrence starts, a 5-field cron expression ("0 2 * * SUN"). Default none.',
      ),
    duration: duration({ min: 60_000, max: 7 * 86_400_000 })
      .optional()
      .describe('Recurring: how long each occurrence lasts (1m to 7d). Default none.'),
    timezone: timeZoneSetting('IANA time zone the cron expression is read in ("Asia/Tokyo"). Default UTC.'),
  },
  { what: 'a maintenance window (name, and start and end or cron and duration)' },
).superRefine((window, ctx) => {
  // Runs once every field is well-formed (zod skips it otherwise): the rules between fields.
  const oneOff = window.start !== undefined || window.end !== undefined;
  const recurring = window.cron !== undefined || window.duration !== undefined;
  if (oneOff && recurring) {
    ctx.addIssue({
      code: 'custom',
      path: [window.cron !== undefined ? 'cron' : 'duration'],
      message:
        'a window is one-off (start and end) or recurring (cron and duration), not both: remove one pair',
    });
    return;
  }
  if (!oneOff && !recurring) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message:
        'expected "start" and "end" (a one-off window) or "cron" and "duration" (a recurring one), got neither',
    });
    return;
  }
  const missing = (key: string, given: string, what: string) =>
    ctx.addIssue({ code: 'custom', path: [key], message: `required with "${given}", expected ${what}` });
  if (window.start !== undefined && window.end === undefined)
    missing('end', 'start', 'a time with its offset such as "2026-12-24T23:00:00+01:00"');
  if (window.end !== undefined && window.start === undefined)
    missing('start', 'end', 'a time with its offset such as "2026-12-24T22:00:00+01:00"');
  if (window.cron !== undefined && window.duration === undefined)
    missing('duration', 'cron', 'how long each occurrence lasts, such as "2h"');
  if (window.duration !== undefined && window.cron === undefined) missing('cron', 'duration', CRON_EXPECTED);
  if (
    window.start !== undefined &&
    window.end !== undefined &&
    Date.parse(window.end) <= Date.parse(window.start)
  )
    ctx.addIssue({
      code: 'custom',
      path: ['end'],
      message: `must be after start (${window.start}), got ${showValue(window.end)}`,
    });
});

export type MaintenanceWindowSettings = z.output<typeof maintenanceSchema>;

/** A window as written in the config or a POST body (durations as text). */
export type MaintenanceWindowInput = z.input<typeof maintenanceSchema>;

/**
 * The config's list of windows: each valid, and each name used once (the API refuses a name
 * the config or the API already has, so a name always means one window).
 */
export const maintenanceListSchema = z
  .array(maintenanceSchema)
  .superRefine(
    uniqueNames(
      (name, first) => `duplicate maintenance window name "${name}", already used by maintenance[${first}]`,
    ),
  );
