import { z } from 'zod';
import { strictObject } from './zod-helpers.ts';

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
});

export type ReportsSettings = z.output<typeof reportsSchema>;
