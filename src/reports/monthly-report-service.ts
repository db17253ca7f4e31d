import { DelayedError, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { ALERT_BACKOFF_TYPE, alertRetryDelay, DEFAULT_ALERT_RETRY } from '../alerts/alert-queue.ts';
import type { AlertStatusStore } from '../alerts/alert-status-store.ts';
import { deliveryAttempts } from '../alerts/delivery-attempts.ts';
import { type AlertingSettings, DEFAULT_LIST } from '../config/alerting-schema.ts';
import type { ReportMailSettings } from '../config/reports-schema.ts';
import type { Logger } from '../util/logger.ts';
import { type ReportMonth, reportMonthsAround, sendMomentOf, shiftMonth } from './monthly-report-calendar.ts';
import {
  type MonthlyReportJob,
  type MonthlyReportSender,
  monthlyReportKey,
} from './monthly-report-sender.ts';

/** The queue of monthly report deliveries (BullMQ forbids ":" in names). */
export const REPORT_QUEUE_NAME = 'reports';

/**
 * How long the mark that a month's report went out is kept: past the next month's moment
 * with room to spare, so a start on the eve of the next moment still finds it (the alert
 * statuses' own mark lasts 30 days, less than a 31-day month).
 */
const REPORT_SENT_KEEP_SECONDS = 400 * 86_400;

/** A report job taken before its moment (the settings moved it later) waits at least this long again. */
const EARLY_SLACK_MS = 1000;

/** The deliveries a month's report makes: one per list in `reports.mail.lists` × channel it has. */
export function monthlyReportJobs(
  month: ReportMonth,
  mail: ReportMailSettings,
  alerting: AlertingSettings,
): MonthlyReportJob[] {
  const at = sendMomentOf(month, mail);
  return mail.lists.flatMap((list) => {
    const settings = alerting.lists[list];
    const to = list === DEFAULT_LIST && !settings ? alerting.to : settings?.to;
    const language = list === DEFAULT_LIST && !settings ? alerting.language : (settings?.language ?? 'en');
    const channels = [
      ...(to ? (['email'] as const) : []),
      ...(settings?.webhook ? (['webhook'] as const) : []),
    ];
    return channels.map((channel) => ({
      key: monthlyReportKey(month, list, channel),
      kind: 'report' as const,
      month,
      list,
      channel,
      language,
      locations: [],
      at,
    }));
  });
}

export interface MonthlyReportsOptions {
  /** For the queue, and the sent marks. */
  redis: Redis;
  /** Its own connection: a BullMQ worker blocks on it. */
  workerConnection: Redis;
  prefix: string;
  mail: ReportMailSettings;
  alerting: AlertingSettings;
  sender: MonthlyReportSender;
  statuses: AlertStatusStore;
  logger: Logger;
  /**
   * The time (tests move it to a report's moment instead of waiting a month).
   * @defaultValue Date.now
   */
  clock?: () => number;
  /**
   * The waits between attempts.
   * @defaultValue DEFAULT_ALERT_RETRY: 15 s doubling to at most 15 min, 40 attempts
   */
  retry?: Partial<typeof DEFAULT_ALERT_RETRY>;
}

export interface MonthlyReports {
  /** Queues the report owed (catch-up) and the next one, delayed until due; what it queued. */
  schedule(): Promise<MonthlyReportJob[]>;
  stop(): Promise<void>;
}

/**
 * The monthly report through the alert channels, each month × list × channel exactly once:
 * its job id is `report.<YYYY-MM>.<list>.<channel>`, delayed in Redis until `day` at `at`
 * in `timezone` (across restarts), and a mark kept 400 days says it went out. At start the
 * latest month whose moment has passed is queued at once unless marked (a stack down at
 * its moment catches up once; not a moment from before the very first start), the next
 * one delayed; after each report the next is queued.
 * Attempts and statuses are the alerts': the same retry waits, the same status store
 * (GET /api/v1/alerts), the same sent-mark-before-send check.
 */
export function startMonthlyReports(options: MonthlyReportsOptions): MonthlyReports {
  const { redis, prefix, mail, alerting, sender, statuses, logger } = options;
  const clock = options.clock ?? Date.now;
  const policy = { ...DEFAULT_ALERT_RETRY, ...options.retry };
  const attempt = deliveryAttempts({ policy, statuses, logger, what: 'monthly report' });
  const queue = new Queue<MonthlyReportJob>(REPORT_QUEUE_NAME, { connection: redis, prefix });
  const sentKey = (key: string) => `${prefix}:report-sent:${key}`;
  const sinceKey = `${prefix}:report-since`;
  const alreadySent = async (key: string) =>
    (await redis.get(sentKey(key))) ?? (await statuses.sentResponse(key));

  const queueMonth = async (month: ReportMonth, due: boolean): Promise<MonthlyReportJob[]> => {
    const queued: MonthlyReportJob[] = [];
    for (const job of monthlyReportJobs(month, mail, alerting)) {
      if (await alreadySent(job.key)) continue;
      // Due now but waiting for a moment that passed while no one was looking (the clock
      // moved, or the delay was set under other settings): it runs now.
      const waiting = due ? await queue.getJob(job.key) : undefined;
      if (waiting && (await waiting.isDelayed())) await waiting.promote();
      const delay = Math.max(0, job.at - clock());
      await queue.add('report', job, {
        jobId: job.key,
        ...(delay > 0 ? { delay } : {}),
        attempts: policy.attempts,
        backoff: { type: ALERT_BACKOFF_TYPE },
        removeOnComplete: { age: 40 * 86_400, count: 10_000 },
        removeOnFail: { age: 40 * 86_400, count: 10_000 },
      });
      // A report due now shows as queued; the next month's gets its status when it runs.
      if (due) await statuses.queued(job);
      queued.push(job);
    }
    return queued;
  };

  const schedule = async () => {
    const now = clock();
    // The first start remembers when it was: a report due before reports.mail was ever
    // scheduled is not sent out of the blue (`pathwatch report send` sends one by hand);
    // one due since, missed while the stack was down, is caught up.
    await redis.set(sinceKey, String(now), 'NX');
    const since = Number(await redis.get(sinceKey));
    const { due, next } = reportMonthsAround(now, mail);
    const owed = sendMomentOf(due, mail) >= since ? await queueMonth(due, true) : [];
    return [...owed, ...(await queueMonth(next, false))];
  };

  const worker = new Worker<MonthlyReportJob, { response: string; alreadySent: boolean }>(
    REPORT_QUEUE_NAME,
    async (job, token) => {
      const queued = job.data;
      const earlier = await alreadySent(queued.key);
      if (earlier) {
        logger.info({ alert: queued.key }, 'monthly report already sent; not sending it again');
        return { response: earlier, alreadySent: true };
      }
      const current = monthlyReportJobs(queued.month, mail, alerting).find((each) => each.key === queued.key);
      if (!current) {
        // Queued under settings that changed since: the list (or its channel) is no longer asked for.
        await statuses.settled(queued, 'skipped', 'no longer in reports.mail.lists');
        return { response: 'skipped', alreadySent: false };
      }
      if (current.at > clock() + EARLY_SLACK_MS) {
        // The settings moved the moment later: not an attempt, the job waits until then.
        await job.moveToDelayed(Date.now() + (current.at - clock()), token);
        throw new DelayedError();
      }
      const next = () =>
        queueMonth(shiftMonth(queued.month, 1), false).catch((error: Error) => {
          logger.warn({ err: error.message }, 'the next monthly report could not be queued');
          return [];
        });
      return attempt(job, {
        event: current,
        send: async () => sender.send(current, await sender.compute(queued.month)),
        beforeSent: async (receipt) => {
          await redis.set(
            sentKey(queued.key),
            receipt.response || 'accepted',
            'EX',
            REPORT_SENT_KEEP_SECONDS,
          );
        },
        afterSent: async () => {
          await next();
        },
        // Failed for good: the next month is still owed its report.
        onGiveUp: async () => {
          await next();
        },
      });
    },
    {
      connection: options.workerConnection,
      prefix,
      concurrency: 1,
      maxStalledCount: 10,
      settings: { backoffStrategy: (attemptsMade: number) => alertRetryDelay(attemptsMade, policy) },
    },
  );
  worker.on('error', (error) => logger.debug({ err: error.message }, 'report worker error'));

  return {
    schedule,
    async stop() {
      await worker.close();
      await queue.close();
    },
  };
}
