import { createHash } from 'node:crypto';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CaptureAgent } from '../capture/capture-agent.ts';
import { runCheck } from '../src/checks/run-check.ts';
import type { RunResult } from '../src/checks/run-result.ts';
import type { LoadedConfig } from '../src/config/load-config.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import { type RunJobData, runQueueName } from '../src/scheduler/run-queue.ts';
import type { Logger } from '../src/util/logger.ts';
import { runWithConfirmation } from './run-with-confirmation.ts';
import { stalledRunOptions } from './stalled-run-options.ts';

export interface RunWorkerOptions {
  config: LoadedConfig;
  location: string;
  connection: Redis;
  recorder: ResultsRecorder;
  logger: Logger;
  /** Protocol checks run at once (default: config `workers.probeConcurrency`). */
  concurrency?: number;
  /** Called after every stored attempt (tests, metrics). */
  onResult?: (result: RunResult) => void;
  /** The host's capture agent: failed runs get the packet-capture slice around them. */
  capture?: CaptureAgent;
}

/**
 * The run id is derived from the job, not drawn at random: a job that BullMQ hands out
 * again (its worker died mid-run) is stored under the same id, so it is counted once.
 */
export function runIdForJob(queueName: string, jobId: string | undefined): string {
  return createHash('sha256').update(`${queueName}/${jobId}`).digest('base64url').slice(0, 20);
}

/** When the run was meant to start: the scheduler's slot for repeat jobs, else the request. */
export function scheduledAtOf(job: Job<RunJobData>): number {
  return job.data.requestedAt ?? job.timestamp + (job.opts.delay ?? 0);
}

/** Consumes one location's queue: runs each check and stores its result. */
export function startRunWorker(options: RunWorkerOptions): Worker<RunJobData, RunResult | undefined> {
  const { config, location, recorder, logger } = options;
  const queueName = runQueueName(location);
  const checksById = new Map(config.checks.map((check) => [check.id, check]));
  const worker = new Worker<RunJobData, RunResult | undefined>(
    queueName,
    async (job) => {
      const check = checksById.get(job.data.checkId);
      if (!check) {
        // The config this worker runs no longer has the check (removed, or a newer
        // config elsewhere): retrying cannot help.
        throw new UnrecoverableError(`check "${job.data.checkId}" is not in ${config.file}`);
      }
      const baseRunId = runIdForJob(queueName, job.id);
      return runWithConfirmation({
        attempt: (attempt, runId) =>
          runCheck(check, {
            location,
            secrets: config.secrets,
            configDir: config.dir,
            runId,
            scheduledAt: scheduledAtOf(job),
            attempt,
          }),
        baseRunId,
        retries: check.retries,
        retryDelay: check.retryDelay,
        policy: check,
        locations: check.locations,
        recorder,
        logger,
        capture: options.capture,
        onResult: options.onResult,
      });
    },
    {
      connection: options.connection,
      prefix: config.settings.redis.prefix,
      concurrency: options.concurrency ?? config.settings.workers.probeConcurrency,
      ...stalledRunOptions(config.settings.workers.stalledAfter),
    },
  );
  worker.on('failed', (job, error) => logger.error({ jobId: job?.id, err: error.message }, 'run job failed'));
  worker.on('error', (error) => logger.error({ err: error.message }, 'worker error'));
  return worker;
}
