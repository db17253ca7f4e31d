import type { CaptureAgent } from '../capture/capture-agent.ts';
import type { RunResult } from '../src/checks/run-result.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
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
    const result = { ...(await options.attempt(attempt, runId)), host: HOST_ID };
    const counted = result.status !== 'fail' || attempt > options.retries;
    const change = await recorder.record(result, {
      counted,
      policy: options.policy,
      locations: options.locations,
    });
    logger.info(
      {
        checkId: result.checkId,
        location: result.location,
        runId: result.runId,
        attempt,
        status: result.status,
        ms: result.phases.total,
        error: result.error?.message,
        ...(change ? { state: `${change.from}->${change.to}` } : {}),
      },
      `${result.kind === 'journey' ? 'journey' : 'run'} finished`,
    );
    attachCaptureInBackground(options.capture, result, recorder, logger);
    options.onResult?.(result);
    if (counted) return result;
    await new Promise((resolve) => setTimeout(resolve, options.retryDelay));
  }
}
