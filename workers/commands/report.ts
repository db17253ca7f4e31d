import type { Command } from 'commander';
import { alertChannelsOf } from '../../src/alerts/alert-channels-of.ts';
import { alertItems } from '../../src/alerts/alert-items.ts';
import { MaintenanceCalendar } from '../../src/alerts/maintenance-calendar.ts';
import { DEFAULT_LIST } from '../../src/config/alerting-schema.ts';
import { processSecretMasker } from '../../src/config/secret-masker.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { monthWindow, reportMonthProblem } from '../../src/reports/monthly-report-calendar.ts';
import { monthlyReportJobs } from '../../src/reports/monthly-report-service.ts';
import { monthlyReportSenderOf } from '../../src/reports/monthly-report-start.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { CliExit, EXIT_FAIL, EXIT_USAGE } from '../cli/cli-exit.ts';
import { configOption } from '../cli/config-option.ts';
import { exitWhenDone } from '../cli/exit-when-done.ts';
import { loadConfigOrExit } from '../cli/load-config-or-exit.ts';
import { loadJourneysOrExit } from '../cli/load-journeys-or-exit.ts';
import { requireRedisUrl } from '../cli/require-redis-url.ts';

/**
 * `pathwatch report send --month 2026-11 --list ops`: one month's report to one list now,
 * through each of its channels, outside the monthly schedule (its own status key, so it
 * neither counts as nor stops the scheduled one). Exit 0 all sent, 1 one was not, 2 bad input.
 */
export function addReportCommand(program: Command): void {
  const report = program.command('report').description('availability reports: send the monthly report now');
  report
    .command('send')
    .description(
      "send a calendar month's report to a recipient list now (mail with the CSV, webhook JSON), on $REDIS_URL; exit 0 sent, 1 not sent, 2 bad input",
    )
    .addOption(configOption())
    .requiredOption(
      '--month <YYYY-MM>',
      'the month, e.g. 2026-11 (a calendar month in reports.mail.timezone)',
    )
    .requiredOption(
      '--list <name>',
      `the recipient list (alerting.lists, or ${DEFAULT_LIST} for alerting.to)`,
    )
    .action(async (options: { config?: string; month: string; list: string }) => {
      exitWhenDone();
      const usage = (message: string) => new CliExit(EXIT_USAGE, `pathwatch report send: ${message}`);
      const problem = reportMonthProblem(options.month);
      if (problem) throw usage(`--month: ${problem}`);
      const config = await loadConfigOrExit(options.config);
      const alerting = config.settings.alerting;
      if (!alerting)
        throw usage(
          `${config.file} has no alerting block; add alerting.lists (the report goes through them)`,
        );
      const known = [...(alerting.to ? [DEFAULT_LIST] : []), ...Object.keys(alerting.lists)];
      if (!known.includes(options.list))
        throw usage(`--list: no recipient list "${options.list}" (lists: ${known.join(', ') || 'none'})`);
      const timezone = config.settings.reports.mail?.timezone ?? 'UTC';
      const window = monthWindow(options.month, timezone);
      if (window.to > Date.now())
        throw usage(`--month: ${options.month} is not over yet (${timezone}); expected a past month`);
      requireRedisUrl('report send');
      const journeys = await loadJourneysOrExit(config);
      const redis = createRedisConnection(process.env.REDIS_URL as string);
      const prefix = config.settings.redis.prefix;
      const recorder = new ResultsRecorder(redis, config);
      const channels = alertChannelsOf(alerting, config.secrets);
      const sender = monthlyReportSenderOf({
        config,
        alerting,
        channels,
        routing: { allItems: alertItems(config, journeys) },
        recorder,
        redis,
        prefix,
        maintenance: new MaintenanceCalendar(redis, prefix, config.settings.maintenance),
      });
      let failed = false;
      try {
        const jobs = monthlyReportJobs(
          options.month,
          { lists: [options.list], day: 1, at: '00:00', timezone },
          alerting,
        );
        const computed = await sender.compute(options.month);
        for (const scheduled of jobs) {
          // Its own key: a send by hand is not the month's scheduled one.
          const job = { ...scheduled, key: `${scheduled.key}.now-${Date.now()}`, at: Date.now() };
          await recorder.alerts.queued(job);
          try {
            const receipt = await sender.send(job, computed);
            await recorder.alerts.sent(job, receipt, 1);
            console.log(
              processSecretMasker.mask(
                `sent the ${options.month} report to list "${options.list}" by ${job.channel}; the server answered: ${receipt.response}`,
              ),
            );
          } catch (error) {
            failed = true;
            const message = (error as Error).message;
            await recorder.alerts.attemptFailed(job, message, 1, 'failed');
            console.error(processSecretMasker.mask(`pathwatch report send: ${job.channel}: ${message}`));
          }
        }
      } finally {
        await Promise.all(channels.map((channel) => channel.close()));
        redis.disconnect();
      }
      if (failed) throw new CliExit(EXIT_FAIL, 'pathwatch report send: not every channel took the report');
    });
}
