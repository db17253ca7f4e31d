import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { alertChannelsOf } from '../src/alerts/alert-channels-of.ts';
import { alertGateOf } from '../src/alerts/alert-gate-of.ts';
import { AlertOutbox } from '../src/alerts/alert-outbox.ts';
import { openAlertQueue } from '../src/alerts/alert-queue.ts';
import type { AlertRouting } from '../src/alerts/alert-routing.ts';
import { gatherAlertContext } from '../src/alerts/gather-alert-context.ts';
import { startMaintenanceAnnouncer } from '../src/alerts/maintenance-announcer.ts';
import { MaintenanceCalendar } from '../src/alerts/maintenance-calendar.ts';
import { loadLinkKey } from '../src/api/link-key.ts';
import { FilesystemArtifactStore } from '../src/artifacts/filesystem-artifact-store.ts';
import type { AlertingSettings } from '../src/config/alerting-schema.ts';
import type { LoadedConfig } from '../src/config/load-config.ts';
import type { RedisConnectionOptions } from '../src/redis/redis-connection.ts';
import { startMonthlyReportsOf } from '../src/reports/monthly-report-start.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import type { Logger } from '../src/util/logger.ts';
import { startAlertWorker } from './alert-worker.ts';

/** How often the scheduler process looks for incidents whose alerts were never queued. */
const ALERT_SWEEP_EVERY_MS = 60_000;

export interface StartAlertingOptions {
  config: LoadedConfig;
  alerting: AlertingSettings;
  routing: AlertRouting;
  recorder: ResultsRecorder;
  connect: (role: string, options?: Omit<RedisConnectionOptions, 'role' | 'logger'>) => Redis;
  prefix: string;
  logger: Logger;
}

/**
 * The delivering half of alerting, run once per installation (in the scheduler's process):
 * the alert worker with its channels and gate, the maintenance announcer, and the sweep
 * that queues what a worker could not. Returns its stopper.
 */
export async function startAlerting(options: StartAlertingOptions): Promise<() => Promise<void>> {
  const { config, alerting, routing, recorder, connect, prefix, logger } = options;
  const channels = alertChannelsOf(alerting, config.secrets);
  const redis = connect('alerting');
  const queue = openAlertQueue(connect('alert queue'), prefix);
  const outbox = new AlertOutbox(queue, recorder.alerts, routing, logger);
  const calendar = new MaintenanceCalendar(redis, prefix, config.settings.maintenance);
  const gate = alertGateOf({ recorder, config, routing, redis, prefix, maintenance: calendar });
  // The screenshots and the link key live with the API on this host's data directory; a
  // worker host elsewhere uploads its artifacts there.
  const artifacts = new FilesystemArtifactStore(join(config.dataDir, 'artifacts'));
  const linkKey = await loadLinkKey(config).catch((error: Error) => {
    logger.warn({ err: error.message }, 'alert mails go without signed links');
    return undefined;
  });
  const worker = startAlertWorker({
    connection: connect('alert worker'),
    prefix,
    channels,
    statuses: recorder.alerts,
    logger,
    gate,
    outbox,
    gather: (event) => gatherAlertContext(event, { recorder, config, artifacts, linkKey, logger }),
  });
  const announcer = startMaintenanceAnnouncer({
    calendar,
    statuses: recorder.alerts,
    outbox,
    incidents: recorder.incidents,
    logger,
  });
  // The monthly report (reports.mail) goes to the same lists, with the same retries and statuses.
  const reports = config.settings.reports.mail
    ? await startMonthlyReportsOf({
        config,
        alerting,
        channels,
        routing,
        recorder,
        redis,
        workerConnection: connect('report worker'),
        prefix,
        maintenance: calendar,
        logger,
      })
    : undefined;
  let sweeping: Promise<unknown> | undefined;
  const sweep = setInterval(() => {
    sweeping ??= outbox
      .reconcile(recorder.incidents)
      .catch((error: Error) => logger.debug({ err: error.message }, 'alert sweep failed'))
      .finally(() => {
        sweeping = undefined;
      });
  }, ALERT_SWEEP_EVERY_MS);
  sweep.unref();
  return async () => {
    clearInterval(sweep);
    await sweeping;
    await announcer.stop();
    await reports?.stop();
    await worker.close();
    await queue.close();
    await Promise.all(channels.map((channel) => channel.close()));
  };
}
