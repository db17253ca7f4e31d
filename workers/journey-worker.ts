import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CaptureAgent } from '../capture/capture-agent.ts';
import type { ArtifactStore } from '../src/artifacts/artifact-store.ts';
import type { RunResult } from '../src/checks/run-result.ts';
import type { LoadedConfig } from '../src/config/load-config.ts';
import { BrowserPool } from '../src/journeys/browser-pool.ts';
import type { ResolvedJourney } from '../src/journeys/load-journeys.ts';
import { runJourney } from '../src/journeys/run-journey.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import { queueName, type RunJobData } from '../src/scheduler/run-queue.ts';
import { slotOf } from '../src/scheduler/slot-of.ts';
import type { Logger } from '../src/util/logger.ts';
import { runWithConfirmation } from './run-with-confirmation.ts';
import { runIdOf, scheduledAtOf } from './run-worker.ts';
import { stalledRunOptions } from './stalled-run-options.ts';

export interface JourneyWorkerOptions {
  config: LoadedConfig;
  journeys: ResolvedJourney[];
  location: string;
  connection: Redis;
  recorder: ResultsRecorder;
  artifacts: ArtifactStore;
  logger: Logger;
  /** Extra Chromium flags (tests keep Chromium on loopback). */
  extraBrowserArgs?: string[];
  onResult?: (result: RunResult) => void;
  /** The host's capture agent: failed runs get the packet-capture slice around them. */
  capture?: CaptureAgent;
}

export interface JourneyWorker {
  worker: Worker<RunJobData, RunResult>;
  /** Finishes in-flight journeys, then closes the browser: no Chromium outlives the worker. */
  close(): Promise<void>;
}

/** Consumes one location's journeys queue with one reused Chromium. */
export function startJourneyWorker(options: JourneyWorkerOptions): JourneyWorker {
  const { config, location, recorder, logger } = options;
  const name = queueName('journeys', location);
  const journeysById = new Map(options.journeys.map((journey) => [journey.id, journey]));
  const pool = new BrowserPool({ settings: config.settings.browser, extraArgs: options.extraBrowserArgs });
  const worker = new Worker<RunJobData, RunResult>(
    name,
    async (job) => {
      const journey = journeysById.get(job.data.checkId);
      if (!journey)
        throw new UnrecoverableError(`journey "${job.data.checkId}" is not in ${config.file}'s journeys`);
      const baseRunId = await runIdOf(name, job);
      const slot = slotOf(job);
      const scheduledAt = scheduledAtOf(job);
      const { retries, retryDelay, downAfter, upAfter } = config.settings.defaults;
      return runWithConfirmation({
        attempt: (attempt, runId) =>
          runJourney(journey, {
            pool,
            artifacts: options.artifacts,
            secrets: config.secrets,
            settings: config.settings.browser,
            location,
            runId,
            scheduledAt,
            attempt,
          }),
        identity: {
          checkId: journey.id,
          kind: 'journey',
          location,
          scheduledAt,
          intervalMs: journey.interval,
        },
        slot: slot === undefined ? undefined : { at: slot, interval: journey.interval },
        artifacts: options.artifacts,
        baseRunId,
        retries,
        retryDelay,
        policy: { downAfter, upAfter },
        locations: journey.locations,
        recorder,
        logger,
        capture: options.capture,
        onResult: options.onResult,
      });
    },
    {
      connection: options.connection,
      prefix: config.settings.redis.prefix,
      concurrency: config.settings.workers.browserConcurrency,
      ...stalledRunOptions(config.settings.workers.stalledAfter),
    },
  );
  worker.on('failed', (job, error) =>
    logger.error({ jobId: job?.id, err: error.message }, 'journey job failed'),
  );
  worker.on('error', (error) => logger.error({ err: error.message }, 'journey worker error'));
  return {
    worker,
    close: async () => {
      await worker.close();
      await pool.close();
    },
  };
}
