import { type Job, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CaptureAgent } from '../capture/capture-agent.ts';
import type { ArtifactStore } from '../src/artifacts/artifact-store.ts';
import { RunCancelledError } from '../src/checks/run-cancelled-error.ts';
import type { LoadedConfig } from '../src/config/load-config.ts';
import type { ItemSettings } from '../src/config/resolve-item-settings.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import type { RunResult, RunStatus } from '../src/results/run-result.ts';
import { type QueueKind, queueName, type RunJobData } from '../src/scheduler/run-queue.ts';
import { slotOf } from '../src/scheduler/slot-of.ts';
import type { Logger } from '../src/util/logger.ts';
import { runIdOf, scheduledAtOf } from './run-id-for-job.ts';
import { runWithConfirmation } from './run-with-confirmation.ts';
import { stalledRunOptions } from './stalled-run-options.ts';

/** What a worker needs of an item, a check of any kind or a journey alike. */
export interface WorkerItem extends ItemSettings {
  id: string;
  kind: string;
}

/** One attempt of an item's run, as the worker hands it to the probe or the journey runner. */
export interface AttemptRequest {
  runId: string;
  attempt: number;
  scheduledAt: number;
  /**
   * The job's signal: BullMQ's own (a job cancelled through the worker) combined with the
   * worker's stop. The attempt combines it with its own deadline.
   */
  signal: AbortSignal;
}

export interface ItemWorkerOptions<Item extends WorkerItem> {
  /** Which of the location's queues this worker consumes. */
  queue: QueueKind;
  location: string;
  /** The items this worker can run; a job for any other fails without retry. */
  items: Item[];
  /** Runs one attempt: a probe, or a journey in the worker's browser. Always returns a result. */
  runAttempt: (item: Item, request: AttemptRequest) => Promise<RunResult>;
  /** Runs at once. */
  concurrency: number;
  config: LoadedConfig;
  connection: Redis;
  recorder: ResultsRecorder;
  logger: Logger;
  /** Called after every stored attempt (tests, metrics). */
  onResult?: (result: RunResult) => void;
  /** The host's capture agent: failed runs get the packet-capture slice around them. */
  capture?: CaptureAgent;
  /**
   * Where the evidence of this worker's runs is stored: an attempt that throws (say, an
   * artifact write failed) is still stored, with the artifacts it had already written.
   */
  artifacts?: ArtifactStore;
  /** Held for the worker's life and closed after its last run (a journey worker's browser). */
  resource?: { close(): Promise<void> };
}

/**
 * Consumes one of a location's queues: runs each item's job, checks and journeys through
 * the same code (run id, retries, confirmation, storage, capture), and stops in bounded
 * time. Only what runs one attempt, and what the worker holds for it, differ by queue.
 */
/**
 * What a finished job keeps in Redis as its return value: which run it stored. The run
 * itself is in the result store; returning it whole would write every result twice.
 */
export interface JobOutcome {
  runId: string;
  status: RunStatus;
}

export class ItemWorker<Item extends WorkerItem> extends Worker<RunJobData, JobOutcome> {
  private readonly shutdown: AbortController;
  private readonly resource?: { close(): Promise<void> };

  constructor(options: ItemWorkerOptions<Item>) {
    const name = queueName(options.queue, options.location);
    const shutdown = new AbortController();
    const itemsById = new Map(options.items.map((item) => [item.id, item]));
    super(
      name,
      // Three parameters: BullMQ hands a processor its abort signal only when it declares one.
      (job, _token, signal) =>
        runItemJob(options, name, itemsById, job, jobSignal(signal, shutdown.signal), shutdown.signal),
      {
        connection: options.connection,
        prefix: options.config.settings.redis.prefix,
        concurrency: options.concurrency,
        ...stalledRunOptions(options.config.settings.workers.stalledAfter),
      },
    );
    this.shutdown = shutdown;
    this.resource = options.resource;
    const { logger } = options;
    this.on('failed', (job, error) =>
      logger.error({ queue: name, jobId: job?.id, err: error.message }, 'job failed'),
    );
    this.on('error', (error) => logger.error({ queue: name, err: error.message }, 'worker error'));
  }

  /**
   * Stops taking jobs and cancels the runs in flight at once (not at their deadline: a
   * journey's may be 10 minutes away, and a stop must end before a supervisor's kill). Each
   * cancelled run still ends as a result, stored as status `error` "cancelled by shutdown",
   * which moves no state; then what the worker holds (its browser) is closed.
   */
  override async close(force = false): Promise<void> {
    const reason = new RunCancelledError('shutdown');
    this.shutdown.abort(reason);
    // The jobs in flight hold BullMQ's signals (see jobSignal): abort those with the same
    // reason. BullMQ types the reason as a string; any value reaches the signal as it is.
    this.cancelAllJobs(reason as unknown as string);
    await super.close(force);
    await this.resource?.close();
  }
}

/**
 * The job's one signal. BullMQ's own (present when the processor declares it), which the
 * worker's stop aborts through cancelAllJobs (see close); a job that starts once the stop
 * has begun gets the stop's signal, already aborted. Not AbortSignal.any of the two: that
 * made a third signal and two listeners for every job, a cost every run paid for a stop.
 */
function jobSignal(bullmqSignal: AbortSignal | undefined, shutdown: AbortSignal): AbortSignal {
  return bullmqSignal && !shutdown.aborted ? bullmqSignal : shutdown;
}

async function runItemJob<Item extends WorkerItem>(
  options: ItemWorkerOptions<Item>,
  name: string,
  itemsById: Map<string, Item>,
  job: Job<RunJobData>,
  signal: AbortSignal,
  stopSignal: AbortSignal,
): Promise<JobOutcome> {
  const item = itemsById.get(job.data.checkId);
  if (!item) {
    // The config this worker runs no longer has the item (removed, or a newer config
    // elsewhere): retrying cannot help.
    throw new UnrecoverableError(
      `"${job.data.checkId}" is not in the ${name} items of ${options.config.file}`,
    );
  }
  const baseRunId = await runIdOf(name, job);
  const scheduledAt = scheduledAtOf(job);
  const slot = slotOf(job);
  const result = await runWithConfirmation({
    attempt: (attempt, runId) => options.runAttempt(item, { runId, attempt, scheduledAt, signal }),
    identity: {
      checkId: item.id,
      kind: item.kind,
      location: options.location,
      scheduledAt,
      intervalMs: item.interval,
    },
    slot: slot === undefined ? undefined : { at: slot, interval: item.interval },
    baseRunId,
    retries: item.retries,
    retryDelay: item.retryDelay,
    policy: item,
    locations: item.locations,
    signal,
    stopSignal,
    recorder: options.recorder,
    logger: options.logger,
    capture: options.capture,
    artifacts: options.artifacts,
    onResult: options.onResult,
  });
  return { runId: result.runId, status: result.status };
}
