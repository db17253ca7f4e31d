import type { FastifyPluginAsync } from 'fastify';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { MaintenanceCalendar } from '../../alerts/maintenance-calendar.ts';
import { computeReport } from '../../reports/compute-report.ts';
import { reportCsv } from '../../reports/report-csv.ts';
import { REPORT_PERIODS, type ReportPeriod, reportWindow } from '../../reports/report-window.ts';
import { RollupReader } from '../../reports/rollup-reader.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import { apiError } from '../api-error.ts';
import { API_V1_ERRORS, errorResponses } from '../schemas/api-error-schema.ts';
import { reportSchema } from '../schemas/report-schemas.ts';
import type { MonitoredItem } from './checks-routes.ts';
import { timeParam } from './time-param.ts';

const reportsQuery = z.object({
  period: z
    .string()
    .refine((raw) => (REPORT_PERIODS as string[]).includes(raw), {
      error: `must be one of ${REPORT_PERIODS.join(', ')}`,
    })
    .transform((raw) => raw as ReportPeriod)
    .optional()
    .describe('day (24 h), week (7 days) or month (30 days). Default day.'),
  end: timeParam()
    .optional()
    .describe('When the period ends (ISO 8601 with a zone, or epoch ms). Default now.'),
  format: z
    .string()
    .refine((raw) => raw === 'json' || raw === 'csv', { error: 'must be one of json, csv' })
    .optional()
    .describe('json, or csv (RFC 4180, a download). Default json.'),
});

export interface ReportsRoutesOptions {
  items: MonitoredItem[];
  recorder: ResultsRecorder;
  /** Where the rollups are read; without it the route answers 503. */
  redis?: Redis;
  redisPrefix: string;
  /** Days rollups are kept (`rollupDays`). */
  rollupDays: number;
  /** Runs kept per series (`runsPerSeries`). */
  runsPerSeries: number;
  /** The availability goal in percent (`reports.target`). */
  target: number;
  /** Maintenance to leave out; without it nothing is. */
  maintenance?: Pick<MaintenanceCalendar, 'list' | 'occurrences'>;
}

/** Availability and latency per check and location for a day, week or month, as JSON or CSV. */
export const reportsRoutes: FastifyPluginAsync<ReportsRoutesOptions> = async (app, options) => {
  const reader = options.redis
    ? new RollupReader(options.redis, options.redisPrefix, options.rollupDays)
    : undefined;

  app.get<{ Querystring: z.output<typeof reportsQuery> }>(
    '/api/v1/reports',
    {
      schema: {
        tags: ['reports'],
        summary:
          'Availability, latency percentiles and error budget per check and location for a period, maintenance left out',
        querystring: reportsQuery,
        response: {
          200: {
            description: 'The report (format=json), or the same as an RFC 4180 CSV download (format=csv)',
            content: {
              'application/json': { schema: reportSchema },
              'text/csv': { schema: z.string() },
            },
          },
          ...errorResponses(API_V1_ERRORS),
        },
      },
    },
    async (request, reply) => {
      if (!reader)
        return reply
          .code(503)
          .send(apiError('NO_REDIS', 'this API process has no Redis connection to read rollups from'));
      const period = request.query.period ?? 'day';
      const window = reportWindow(period, request.query.end ?? Date.now());
      const report = await computeReport(
        {
          reader,
          runs: options.recorder.runs,
          runsPerSeries: options.runsPerSeries,
          keepDays: options.rollupDays,
          maintenance: options.maintenance,
        },
        { items: options.items, window, target: options.target },
      );
      if (request.query.format !== 'csv') return report;
      // Named after the period and the day it ends on (the last hour's date, UTC).
      const date = new Date(window.to - 1).toISOString().slice(0, 10);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="pathwatch-report-${period}-${date}.csv"`)
        .send(reportCsv(report));
    },
  );
};
