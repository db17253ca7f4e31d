import { createHash, randomBytes } from 'node:crypto';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CaptureAgent } from '../capture/capture-agent.ts';
import type { ArtifactStore } from '../src/artifacts/artifact-store.ts';
import { type RunCheckOptions, runCheck } from '../src/checks/run-check.ts';
import type { RunResult } from '../src/checks/run-result.ts';
import type { LoadedConfig, ResolvedCheck } from '../src/config/load-config.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import { type RunJobData, runQueueName } from '../src/scheduler/run-queue.ts';
import { slotOf } from '../src/scheduler/slot-of.ts';
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
  /**
   * Where the evidence of this worker's runs is stored: an attempt that throws (say, an
   * artifact write failed) is still stored, with the artifacts it had already written.
   */
  artifacts?: ArtifactStore;
  /**
   * Runs one attempt of a check (default: its probe, `runCheck`). A wrapper can store
   * evidence of its own under `runs/<runId>/`, as tests of the run path do.
   */
  runAttempt?: (check: ResolvedCheck, options: RunCheckOptions) => Promise<RunResult>;
}

/** The job fields a run id is derived from. */
export interface RunIdSource {
  id?: string;
  /** When the job was created (epoch ms): differs between installs that reuse job ids. */
  timestamp: number;
  data: Pick<RunJobData, 'runNonce'>;
}

/** 24 base36 characters: a valid artifact-key segment (no leading `-`/`_`), case-insensitive safe. */
const RUN_ID_LENGTH = 24;

/**
 * The run id is derived from the job, not drawn per attempt: a job that BullMQ hands out
 * again (its worker died mid-run) is stored under the same id, so it is counted once. Job
 * ids restart at 1 in a fresh Redis and scheduler job ids repeat across installs of the
 * same config, so the job's creation time and a random nonce kept in its data (see
 * `ensureRunNonce`) are mixed in: ids differ across installs and Redis restarts. Lowercase
 * letters and digits only, so every id is a valid path segment and object-store key.
 */
export function runIdForJob(queueName: string, job: RunIdSource): string {
  const digest = createHash('sha256')
    .update(`${queueName}/${job.id}/${job.timestamp}/${job.data.runNonce ?? ''}`)
    .digest('hex');
  return BigInt(`0x${digest}`).toString(36).padStart(RUN_ID_LENGTH, '0').slice(0, RUN_ID_LENGTH);
}

/**
 * Gives the job its random nonce on first processing and keeps it in the job's data, so a
 * redone job (stalled, picked up again) finds the same nonce and gets the same run id.
 */
export async function ensureRunNonce(job: Job<RunJobData>): Promise<void> {
  if (job.data.runNonce) return;
  await job.updateData({ ...job.data, runNonce: randomBytes(12).toString('hex') });
}

/** The run id of a job being processed: its nonce is stored first. */
export async function runIdOf(queueName: string, job: Job<RunJobData>): Promise<string> {
  await ensureRunNonce(job);
  return runIdForJob(queueName, job);
}

/** When the run was meant to start: the scheduler's slot for repeat jobs, else the request. */
export function scheduledAtOf(job: Job<RunJobData>): number {
  return slotOf(job) ?? job.data.requestedAt ?? job.timestamp + (job.opts.delay ?? 0);
}

/** Consumes one location's queue: runs each check and stores its result. */
export function startRunWorker(options: RunWorkerOptions): Worker<RunJobData, RunResult | undefined> {
  const { config, location, recorder, logger } = options;
  const queueName = runQueueName(location);
  const runAttempt = options.runAttempt ?? runCheck;
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
      const baseRunId = await runIdOf(queueName, job);
      const scheduledAt = scheduledAtOf(job);
      const slot = slotOf(job);
      return runWithConfirmation({
        attempt: (attempt, runId) =>
          runAttempt(check, {
            location,
            secrets: config.secrets,
            configDir: config.dir,
            runId,
            scheduledAt,
            attempt,
          }),
        identity: { checkId: check.id, kind: check.kind, location, scheduledAt, intervalMs: check.interval },
        slot: slot === undefined ? undefined : { at: slot, interval: check.interval },
        baseRunId,
        retries: check.retries,
        retryDelay: check.retryDelay,
        policy: check,
        locations: check.locations,
        recorder,
        logger,
        capture: options.capture,
        artifacts: options.artifacts,
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
