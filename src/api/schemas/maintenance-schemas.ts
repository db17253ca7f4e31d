import { z } from 'zod';

const source = z
  .enum(['config', 'api'])
  .describe('Where the window is set: the config file (removed only there) or the API');

/** A window as GET lists it and POST answers it: as written in the config, plus where it is set. */
export const maintenanceWindowSchema = z.strictObject({
  name: z.string(),
  reason: z.string().optional(),
  checks: z.array(z.string()).optional().describe('Check or journey ids it covers (absent: all)'),
  tags: z.array(z.string()).optional().describe('Tags it covers, any of them (absent: all)'),
  locations: z
    .array(z.string())
    .optional()
    .describe(
      'Locations it covers; an alert is held back only when all its locations are here (absent: all)',
    ),
  start: z.string().optional().describe('One-off: when it starts, as written'),
  end: z.string().optional().describe('One-off: when it ends, as written'),
  cron: z.string().optional().describe('Recurring: when each occurrence starts, read in `timezone`'),
  duration: z.string().optional().describe('Recurring: how long each occurrence lasts ("2h")'),
  timezone: z.string(),
  source,
});

/** One occurrence of a window: when it runs, and what it covers. */
export const maintenanceOccurrenceSchema = z.strictObject({
  name: z.string(),
  reason: z.string().optional(),
  start: z.string().describe('ISO 8601 UTC'),
  end: z.string().describe('ISO 8601 UTC; the occurrence covers [start, end)'),
  scope: z.string().describe('What it covers, e.g. "checks: shop; locations: outside" (empty: everything)'),
  source,
});

/** What GET /api/v1/maintenance answers. */
export const maintenanceListSchema = z.strictObject({
  now: z.string().describe('The time `active` is about, ISO 8601 UTC'),
  from: z.string().describe('Start of the range `occurrences` covers, ISO 8601 UTC'),
  to: z.string().describe('End of that range, ISO 8601 UTC'),
  windows: z.array(maintenanceWindowSchema).describe("The config's windows, then the API's by name"),
  active: z.array(maintenanceOccurrenceSchema).describe('Occurrences running now'),
  occurrences: z
    .array(maintenanceOccurrenceSchema)
    .describe('Occurrences overlapping [from, to], by start (at most 2000 per window)'),
});

/** What DELETE /api/v1/maintenance/:name answers. */
export const maintenanceRemovedSchema = z.strictObject({
  removed: z.string().describe('The name of the window removed'),
});
