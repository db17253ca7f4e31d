import type { Redis } from 'ioredis';
import type { AlertChannel } from '../alerts/alert-channel.ts';
import type { AlertRouting } from '../alerts/alert-routing.ts';
import type { MaintenanceCalendar } from '../alerts/maintenance-calendar.ts';
import type { AlertingSettings } from '../config/alerting-schema.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import type { ResultsRecorder } from '../results/results-recorder.ts';
import type { Logger } from '../util/logger.ts';
import type { ReportItem } from './compute-report.ts';
import { MonthlyReportSender } from './monthly-report-sender.ts';
import {
  type MonthlyReports,
  type MonthlyReportsOptions,
  startMonthlyReports,
} from './monthly-report-service.ts';
import { RollupReader } from './rollup-reader.ts';

export interface MonthlyReportsOfOptions {
  config: LoadedConfig;
  alerting: AlertingSettings;
  /** The alert channels the report goes through (the caller's, closed by it). */
  channels: AlertChannel[];
  /** Its items are the ones the API reports (checks and journeys). */
  routing: Pick<AlertRouting, 'allItems'>;
  recorder: ResultsRecorder;
  redis: Redis;
  workerConnection: Redis;
  prefix: string;
  maintenance: Pick<MaintenanceCalendar, 'list' | 'occurrences'>;
  logger: Logger;
  clock?: () => number;
  /** @defaultValue the alerts' (DEFAULT_ALERT_RETRY) */
  retry?: MonthlyReportsOptions['retry'];
}

/** The checks and journeys as GET /api/v1/reports lists them (monitoredItems' fields). */
export function reportItemsOf(routing: Pick<AlertRouting, 'allItems'>): ReportItem[] {
  return routing.allItems.map(({ id, name, kind, locations, tags }) => ({ id, name, kind, locations, tags }));
}

/** A sender reading what the API reads: the rollups, the stored runs, the maintenance calendar. */
export function monthlyReportSenderOf(options: Omit<MonthlyReportsOfOptions, 'workerConnection' | 'logger'>) {
  const { config, recorder, redis, prefix, maintenance } = options;
  const { rollupDays, runsPerSeries, reports } = config.settings;
  return new MonthlyReportSender({
    channels: options.channels,
    items: reportItemsOf(options.routing),
    sources: {
      reader: new RollupReader(redis, prefix, rollupDays),
      runs: recorder.runs,
      runsPerSeries,
      keepDays: rollupDays,
      maintenance,
    },
    target: reports.target,
    timezone: reports.mail?.timezone ?? 'UTC',
    clock: options.clock,
  });
}

/**
 * Starts the monthly report (`reports.mail`) beside the alert worker, in the scheduler's
 * process, and queues what is owed; undefined when no report is asked for.
 */
export async function startMonthlyReportsOf(
  options: MonthlyReportsOfOptions,
): Promise<MonthlyReports | undefined> {
  const mail = options.config.settings.reports.mail;
  if (!mail) return undefined;
  const reports = startMonthlyReports({
    redis: options.redis,
    workerConnection: options.workerConnection,
    prefix: options.prefix,
    mail,
    alerting: options.alerting,
    sender: monthlyReportSenderOf(options),
    statuses: options.recorder.alerts,
    logger: options.logger,
    clock: options.clock,
    retry: options.retry,
  });
  // A failure here is not the alerts' failure: logged, and the next start queues it again.
  await reports
    .schedule()
    .then((queued) =>
      options.logger.info({ reports: queued.map((job) => job.key) }, 'monthly reports scheduled'),
    )
    .catch((error: Error) =>
      options.logger.warn({ err: error.message }, 'monthly reports could not be scheduled'),
    );
  return reports;
}
