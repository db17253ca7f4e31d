import { z } from 'zod';
import { runResultSchema } from './run-result-schema.ts';

/** The shapes the /api/v1/checks routes answer (checks-routes.ts), for validation and the document. */

const stateName = z.enum(['UNKNOWN', 'UP', 'DEGRADED', 'DOWN']);

export const checkStateSchema = z.strictObject({
  state: stateName,
  since: z.number().describe('When it entered this state (epoch ms)'),
  consecutiveFailures: z.number().int(),
  consecutivePasses: z.number().int(),
  lastRunId: z.string().optional(),
  lastRunAt: z.number().optional(),
  lastError: z.string().optional(),
  flapping: z.boolean(),
  lastSlot: z.number().optional(),
  slotInterval: z.number().optional(),
  changedSlot: z.number().optional(),
  previousState: stateName.optional(),
});

export const verdictSchema = z.strictObject({
  verdict: z.enum(['ok', 'service', 'outside-path', 'inside-path', 'partial', 'probe-host', 'no-data']),
  summary: z.string(),
  down: z.array(z.string()),
  unavailable: z.array(z.string()),
  probeHostFaults: z.array(z.string()),
  awaiting: z.array(z.string()),
});

/** A run in brief: its id, status and start as in a run, then how long it took and its error message. */
const latestRunSchema = runResultSchema
  .pick({ runId: true, status: true, startedAt: true })
  .extend({ durationMs: z.number(), error: z.string().optional() });

export const checkSchema = z.strictObject({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  intervalMs: z.number(),
  timeoutMs: z.number(),
  locations: z.array(z.string()),
  enabled: z.boolean(),
  tags: z.array(z.string()).optional().describe('Its tags (routes and maintenance windows select by them)'),
  latest: z.record(z.string(), latestRunSchema).describe('The latest run per location'),
  states: z.record(z.string(), checkStateSchema).describe('The state per location'),
  verdict: verdictSchema,
});

export const checksListSchema = z.strictObject({ checks: z.array(checkSchema) });

export const checkRunsSchema = z.strictObject({
  checkId: z.string(),
  runs: z.array(runResultSchema),
  gaps: z
    .array(
      z.strictObject({
        location: z.string(),
        start: z.number(),
        end: z.number(),
        count: z.number().int(),
      }),
    )
    .describe('Schedule slots that had no run, over the same stretch as the runs'),
});

export const checkIncidentsSchema = z.strictObject({
  checkId: z.string(),
  incidents: z.array(
    z.strictObject({
      id: z.string(),
      checkId: z.string(),
      start: z.number(),
      end: z.number().optional(),
      locations: z.array(z.string()),
      downNow: z.array(z.string()),
      firstError: z.string().optional(),
      verdict: z.string().optional(),
      verdictPending: z.boolean().optional(),
      maintenance: z
        .array(z.string())
        .optional()
        .describe('Maintenance windows that covered it (its alerts were held back)'),
    }),
  ),
});

export const checkRollupsSchema = z.strictObject({
  checkId: z.string(),
  rollups: z
    .record(
      z.string(),
      z.array(
        z.strictObject({
          hour: z.number(),
          count: z.number().int(),
          failures: z.number().int(),
          degraded: z.number().int(),
          p50: z.number().optional(),
          p95: z.number().optional(),
          p99: z.number().optional(),
        }),
      ),
    )
    .describe('Hourly rows per location'),
});

export const runNowSchema = z.strictObject({
  checkId: z.string(),
  locations: z.array(z.string()),
  jobIds: z.array(z.string()),
});
