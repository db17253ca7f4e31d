import { z } from 'zod';

/** The shapes GET /api/v1/reports answers (reports-routes.ts, src/reports/compute-report.ts). */

const reportRowSchema = z.strictObject({
  location: z.string().optional().describe('The location; absent on a check’s total (all locations)'),
  runs: z
    .number()
    .describe(
      'Counted runs outside maintenance; a fraction only where a partly maintained hour’s runs had aged out',
    ),
  failures: z.number(),
  degraded: z.number().describe('Runs that held but were slow (not failures)'),
  excludedRuns: z.number().describe('Runs left out because a maintenance window covering them ran then'),
  availability: z.number().optional().describe('Runs not failed ÷ runs, in percent; absent without runs'),
  p50: z.number().optional().describe('Latency (ms): upper bound of the histogram bucket holding it'),
  p95: z.number().optional(),
  p99: z.number().optional(),
  errorBudget: z.strictObject({
    allowedPercent: z.number().describe('100 − target: the share of runs that may fail'),
    leftPercent: z.number().describe('What is left of the budget, in percent of it; negative when blown'),
  }),
});

export const reportSchema = z.strictObject({
  period: z.enum(['day', 'week', 'month']),
  from: z.number().describe('Start of the first hour covered (epoch ms)'),
  to: z.number().describe('End of the last hour covered (epoch ms, exclusive)'),
  target: z.number().describe('The availability goal (reports.target), in percent'),
  latencyBucketsMs: z.array(z.number()).describe('Histogram bucket bounds: the percentiles’ resolution'),
  checks: z.array(
    z.strictObject({
      id: z.string(),
      name: z.string(),
      kind: z.string(),
      locations: z.array(reportRowSchema).describe('One row per location it runs at'),
      total: reportRowSchema.describe('All its locations together'),
    }),
  ),
});
