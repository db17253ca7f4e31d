import type { Redis } from 'ioredis';
import type { CaptureAgent } from '../capture/capture-agent.ts';
import type { ArtifactStore } from '../src/artifacts/artifact-store.ts';
import { type RunCheckOptions, runCheck } from '../src/checks/run-check.ts';
import type { LoadedConfig, ResolvedCheck } from '../src/config/load-config.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import type { RunResult } from '../src/results/run-result.ts';
import type { Logger } from '../src/util/logger.ts';
import { ItemWorker } from './item-worker.ts';

export { ensureRunNonce, type RunIdSource, runIdForJob, runIdOf, scheduledAtOf } from './run-id-for-job.ts';

export interface RunWorkerOptions {
  config: LoadedConfig;
  location: string;
  connection: Redis;
  recorder: ResultsRecorder;
  logger: Logger;
  /**
   * Protocol checks run at once.
   * @defaultValue config `workers.probeConcurrency`
   */
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
   * Runs one attempt of a check. A wrapper can store evidence of its own under
   * `runs/<runId>/`, as tests of the run path do.
   * @defaultValue its probe, `runCheck`
   */
  runAttempt?: (check: ResolvedCheck, options: RunCheckOptions) => Promise<RunResult>;
}

/**
 * Consumes one location's probe queue: every check kind, run by its probe. `close()`
 * cancels the runs in flight (stored as "cancelled by shutdown") and returns at once.
 */
export function startRunWorker(options: RunWorkerOptions): ItemWorker<ResolvedCheck> {
  const { config, location } = options;
  const runAttempt = options.runAttempt ?? runCheck;
  return new ItemWorker({
    ...options,
    queue: 'runs',
    items: config.checks,
    concurrency: options.concurrency ?? config.settings.workers.probeConcurrency,
    runAttempt: (check, request) =>
      runAttempt(check, { location, secrets: config.secrets, configDir: config.dir, ...request }),
  });
}
