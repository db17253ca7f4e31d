import { z } from 'zod';
import { timeZoneSetting } from './time-zone-setting.ts';
import { expected, showValue, strictObject } from './zod-helpers.ts';

/**
 * The monthly report mailed through the alert channels (src/reports/monthly-report-*.ts).
 * The list names are checked against `alerting.lists` by crossCheckConfig.
 */
export const reportMailSchema = strictObject(
  {
    lists: z
      .array(z.string({ error: expected('a recipient list name') }).min(1, { error: 'must not be empty' }), {
        error: expected('a list of recipient list names such as ["ops"]'),
      })
      .min(1, { error: 'must name at least one recipient list, got []' })
      .describe(
        "Recipient lists (`alerting.lists` names, or `default` for `alerting.to`) the report goes to, through each list's mail and webhook. Required.",
      ),
    day: z
      .number({ error: expected('a day of the month from 1 to 28') })
      .int({
        error: (issue) => `expected a whole day of the month from 1 to 28, got ${showValue(issue.input)}`,
      })
      .min(1, { error: (issue) => `expected a day of the month from 1 to 28, got ${showValue(issue.input)}` })
      .max(28, {
        error: (issue) =>
          `expected a day of the month from 1 to 28 (every month has it), got ${showValue(issue.input)}`,
      })
      .default(1)
      .describe("Day of the month the previous month's report is sent on (1-28). Default 1."),
    at: z
      .string({ error: expected('a time of day "HH:MM" such as "08:00"') })
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, {
        error: (issue) => `expected a time of day "HH:MM" (00:00 to 23:59), got ${showValue(issue.input)}`,
      })
      .default('08:00')
      .describe('Time of day (HH:MM, 24 h) it is sent at, in `timezone`. Default "08:00".'),
    timezone: timeZoneSetting(
      'IANA time zone of `day` and `at`, and of the calendar month reported ("Asia/Tokyo"). Default UTC.',
    ),
  },
  { what: 'a report mail setting { lists, day, at, timezone }' },
);

export type ReportMailSettings = z.output<typeof reportMailSchema>;

/** What the availability reports (GET /api/v1/reports and the Reports page) are held against. */
export const reportsSchema = strictObject({
  target: z
    .number({ error: (issue) => `expected a percentage such as 99.95, got ${JSON.stringify(issue.input)}` })
    .min(50, { error: (issue) => `must be at least 50 (%), got ${JSON.stringify(issue.input)}` })
    .lt(100, {
      error: (issue) =>
        `must be below 100 (%): a target of 100 leaves no error budget, got ${JSON.stringify(issue.input)}`,
    })
    .default(99.9)
    .describe(
      'Availability goal in percent (e.g. 99.95): the error budget is what is left below 100. Default 99.9.',
    ),
  mail: reportMailSchema
    .optional()
    .describe(
      "The previous calendar month's report, sent each month to recipient lists through their alert channels (mail with the CSV attached, webhook JSON). Default none.",
    ),
});

export type ReportsSettings = z.output<typeof reportsSchema>;
