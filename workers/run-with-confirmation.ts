import { setTimeout as sleep } from 'node:timers/promises';
import type { CaptureAgent } from '../capture/capture-agent.ts';
import type { RecordedChange } from '../src/alerts/alert-outbox.ts';
import type { ArtifactStore, StoredArtifact } from '../src/artifacts/artifact-store.ts';
import { maskRunResult } from '../src/checks/mask-run-result.ts';
import { RunCancelledError } from '../src/checks/run-cancelled-error.ts';
import { processSecretMasker } from '../src/config/secret-masker.ts';
import { errorOf } from '../src/results/error-codes.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import type { RunResult } from '../src/results/run-result.ts';
import type { StatePolicy } from '../src/results/state-store.ts';
import { HOST_ID } from '../src/util/host-id.ts';
import type { Logger } from '../src/util/logger.ts';
import { attachCaptureInBackground } from './attach-capture.ts';

export interface ConfirmationOptions {
  /** Runs one attempt under the given run id. */
  attempt: (attempt: number, runId: string) => Promise<RunResult>;
  /** Derived from the job, so a redone job reuses the same ids. */
  baseRunId: string;
  retries: number;
  retryDelay: number;
  policy: StatePolicy;
  /** Where the check or journey runs, for its verdict. */
  locations: string[];
  recorder: ResultsRecorder;
  logger: Logger;
  capture?: CaptureAgent;
  /** Lets a crashed attempt's record list the evidence it had already stored. */
  artifacts?: ArtifactStore;
  /** Who the run is for, to store an attempt that threw instead of losing it. */
  identity: Pick<RunResult, 'checkId' | 'kind' | 'location' | 'scheduledAt' | 'intervalMs'>;
  /**
   * The job's signal: once it aborts (the worker stops) no retry waits or starts; the
   * attempt in flight, given the same signal, ends as "cancelled by shutdown".
   */
  signal?: AbortSignal;
  /**
   * The worker's stop. What a run leaves running after its job ends (its capture slice,
   * waiting for the other locations' runs) ends with it: the job's own signal is no longer
   * aborted by a stop once the job is done.
   * @defaultValue `signal`
   */
  stopSignal?: AbortSignal;
  /** The schedule slot the job fills (scheduler jobs only; run-now jobs fill none). */
  slot?: { at: number; interval: number };
  onResult?: (result: RunResult) => void;
}

/**
 * A failed run is tried again at once before it counts: every attempt is stored with its
 * own evidence (and its capture slice), and only the last one moves the state machine.
 * Shared by the probe and journey workers.
 */
export async function runWithConfirmation(options: ConfirmationOptions): Promise<RunResult> {
  const { recorder, logger } = options;
  for (let attempt = 1; ; attempt++) {
    const runId = attempt === 1 ? options.baseRunId : `${options.baseRunId}-${attempt}`;
    // Masked already: by the probe or journey that made it, or by attemptOrCrash.
    const result = { ...(await attemptOrCrash(options, attempt, runId)), host: HOST_ID };
    const counted = result.status !== 'fail' || attempt > options.retries;
    const { change, incident } = await recorder.recordRun(result, {
      counted,
      policy: options.policy,
      locations: options.locations,
      slot: options.slot,
    });
    // An incident that opened or ended here is alerted from here, once: only the run that
    // made the transition sees it (incident-store.ts), and the alert's job id is its key.
    await queueAlert(recorder, { change, incident }, logger);
    logger.info(
      {
        checkId: result.checkId,
        location: result.location,
        runId: result.runId,
        attempt,
        status: result.status,
        ms: result.phases.total,
        error: result.error?.message,
        kind: result.kind,
        ...(change ? { state: `${change.from}->${change.to}` } : {}),
      },
      'run finished',
    );
    attachCaptureInBackground(
      options.capture,
      result,
      recorder,
      logger,
      options.stopSignal ?? options.signal,
    );
    options.onResult?.(result);
    // A cancelled job stops here: its last attempt is stored, and a retry would only be cancelled too.
    if (counted || options.signal?.aborted) return result;
    await sleep(options.retryDelay, undefined, { signal: options.signal }).catch(() => {});
    if (options.signal?.aborted) return result;
  }
}

/**
 * A failure to queue an alert is logged, not thrown: the run is already stored, and a
 * redone job would not see the transition again (its run is counted once).
 */
async function queueAlert(
  recorder: ResultsRecorder,
  recorded: RecordedChange,
  logger: Logger,
): Promise<void> {
  if (!recorded.change || !recorder.alertOutbox) return;
  try {
    await recorder.alertOutbox.enqueue(recorded);
  } catch (error) {
    logger.error(
      {
        checkId: recorded.change.checkId,
        incidentId: recorded.incident?.incident.id,
        err: (error as Error).message,
      },
      'could not queue the alerts of a state change',
    );
  }
}

/**
 * An attempt that throws (a browser crash mid-evidence, an artifact write refused or a full
 * disk) is still a run: it is stored with status "error", the reason, and whatever evidence
 * was already written under its id, so the slot is never silently lost.
 *
 * Results come masked from the probe and the journey, each with the run's own resolver (the
 * process's secrets and the tokens the run received), so they are not masked again here;
 * only this record, whose message is written here, is masked here, with the process's
 * secrets (the run's received tokens went with its resolver).
 */
async function attemptOrCrash(
  options: ConfirmationOptions,
  attempt: number,
  runId: string,
): Promise<RunResult> {
  const startedAt = Date.now();
  try {
    return await options.attempt(attempt, runId);
  } catch (error) {
    const stored = options.artifacts
      ? await options.artifacts.list(`runs/${runId}/`).catch(() => [] as StoredArtifact[])
      : [];
    const finishedAt = Date.now();
    const crashed: RunResult = {
      ...options.identity,
      runId,
      attempt,
      startedAt,
      finishedAt,
      status: 'error',
      phases: { total: finishedAt - startedAt },
      peers: [],
      // An attempt cut by the job's signal threw on its way out: it was cancelled, not crashed.
      error: options.signal?.aborted
        ? errorOf('CANCELLED', RunCancelledError.messageOf(options.signal.reason))
        : errorOf(
            'INTERNAL',
            `run ${runId} of "${options.identity.checkId}" crashed: ${(error as Error)?.message ?? String(error)}`,
          ),
      artifacts: stored.map((artifact) => ({
        kind: artifactKind(artifact.key),
        key: artifact.key,
        bytes: artifact.bytes,
        contentType: artifact.contentType,
      })),
    };
    return maskRunResult(crashed, (text) => processSecretMasker.mask(text));
  }
}

function artifactKind(key: string): string {
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (name === 'trace.zip') return 'trace';
  if (name.endsWith('.png')) return 'screenshot';
  if (name.endsWith('.har')) return 'har';
  if (name.endsWith('.pcap')) return 'pcap';
  return 'file';
}
