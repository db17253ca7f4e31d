import { join } from 'node:path';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { type ParsedMail, simpleParser } from 'mailparser';
import type { AlertChannel } from '../../src/alerts/alert-channel.ts';
import type { AlertEvent } from '../../src/alerts/alert-event.ts';
import { alertGateOf } from '../../src/alerts/alert-gate-of.ts';
import { AlertOutbox } from '../../src/alerts/alert-outbox.ts';
import { openAlertQueue } from '../../src/alerts/alert-queue.ts';
import type { AlertStatus } from '../../src/alerts/alert-status-store.ts';
import { EmailChannel } from '../../src/alerts/email-channel.ts';
import { gatherAlertContext } from '../../src/alerts/gather-alert-context.ts';
import { MaintenanceCalendar } from '../../src/alerts/maintenance-calendar.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import type { LoadedConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import type { Logger } from '../../src/util/logger.ts';
import { startAlertWorker } from '../../workers/alert-worker.ts';
import { routingOf } from './alert-routing-of.ts';
import { SHARED_REDIS_URL } from './redis-test-prefix.ts';

export interface AlertPipeline {
  recorder: ResultsRecorder;
  outbox: AlertOutbox;
  calendar: MaintenanceCalendar;
  artifacts: FilesystemArtifactStore;
  redis: Redis;
  /** Records one counted run (downAfter 1, upAfter 1) and queues its alerts, as a worker does. */
  record(run: RunResult, locations: string[]): Promise<AlertEvent[]>;
  /** Every alert's status, by key. */
  statuses(): Promise<Map<string, AlertStatus>>;
  /** Starts (again) the alert worker, as the scheduler's process does. */
  startWorker(): Worker;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The alert half of a stack, wired the way workers/start-alerting.ts wires it, around a
 * recorder the test feeds runs to: the test decides when each location fails.
 */
export function startAlertPipeline(
  config: LoadedConfig,
  logger: Logger,
  options: { linkKey?: Buffer; channels?: AlertChannel[]; redisUrl?: string } = {},
): AlertPipeline {
  const prefix = config.settings.redis.prefix;
  const redisUrl = options.redisUrl ?? SHARED_REDIS_URL;
  const redis = createRedisConnection(redisUrl);
  const queueConnection = createRedisConnection(redisUrl);
  const recorder = new ResultsRecorder(redis, config);
  const routing = routingOf(config);
  const queue: Queue<AlertEvent> = openAlertQueue(queueConnection, prefix);
  const outbox = new AlertOutbox(queue, recorder.alerts, routing, logger);
  const calendar = new MaintenanceCalendar(redis, prefix, config.settings.maintenance);
  const artifacts = new FilesystemArtifactStore(join(config.dataDir, 'artifacts'));
  const alerting = config.settings.alerting!;
  const channels = options.channels ?? [new EmailChannel({ alerting, secrets: config.secrets })];
  const gate = alertGateOf({ recorder, config, routing, redis, prefix, maintenance: calendar });
  let worker: Worker | undefined;
  let workerConnection: Redis | undefined;
  const pipeline: AlertPipeline = {
    recorder,
    outbox,
    calendar,
    artifacts,
    redis,
    async record(run, locations) {
      const recorded = await recorder.recordRun(run, {
        counted: true,
        policy: { downAfter: 1, upAfter: 1 },
        locations,
      });
      return outbox.enqueue(recorded);
    },
    async statuses() {
      const all = await recorder.alerts.list(1000);
      return new Map(all.map((status) => [status.key, status]));
    },
    startWorker() {
      workerConnection = createRedisConnection(redisUrl);
      worker = startAlertWorker({
        connection: workerConnection,
        prefix,
        channels,
        statuses: recorder.alerts,
        logger,
        gate,
        outbox,
        retry: { firstDelayMs: 200, maxDelayMs: 800 },
        gather: (event) =>
          gatherAlertContext(event, { recorder, config, artifacts, linkKey: options.linkKey, logger }),
      });
      return worker;
    },
    async stopWorker() {
      await worker?.close();
      workerConnection?.disconnect();
      worker = undefined;
    },
    async stop() {
      await pipeline.stopWorker();
      await queue.close();
      await Promise.all(channels.map((channel) => channel.close()));
      queueConnection.disconnect();
      redis.disconnect();
    },
  };
  return pipeline;
}

/** A run at `location`: failed with a refused connection, or passed. */
export function runOf(
  checkId: string,
  location: string,
  status: 'fail' | 'pass',
  at = Date.now(),
  extra: Partial<RunResult> = {},
): RunResult {
  return {
    runId: `${checkId}-${location}-${at}-${Math.random().toString(36).slice(2, 8)}`,
    checkId,
    kind: 'http',
    location,
    startedAt: at,
    finishedAt: at + 5,
    attempt: 1,
    status,
    phases: { connect: 2, total: 5 },
    peers: [],
    ...(status === 'fail'
      ? { error: { class: 'refused', code: 'CONNECT_REFUSED', message: `connect to 127.0.0.1:1 refused` } }
      : {}),
    ...extra,
  } as RunResult;
}

/** Every mail the server took, parsed (subject, text, html, attachments with their cid). */
export function parseMails(
  messages: Array<{ data: string; to: string[] }>,
): Promise<Array<ParsedMail & { rcpt: string[] }>> {
  return Promise.all(
    messages.map(async (message) =>
      Object.assign(await simpleParser(message.data, { skipImageLinks: true }), { rcpt: message.to }),
    ),
  );
}
