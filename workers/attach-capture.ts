import type { CaptureAgent } from '../capture/capture-agent.ts';
import type { RunResult } from '../src/checks/run-result.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import type { Logger } from '../src/util/logger.ts';

/**
 * When a run failed at the network level, asks the host's capture agent for the slice
 * around it and attaches the pcap and its analysis to the stored run. In the background:
 * the window closes only `capture.after` past the run, and the worker need not wait.
 */
export function attachCaptureInBackground(
  capture: CaptureAgent | undefined,
  result: RunResult,
  recorder: ResultsRecorder,
  logger: Logger,
): void {
  if (!capture?.wants(result)) return;
  void capture
    .collect(result)
    .then(async (evidence) => {
      if (!evidence) return;
      await recorder.runs.attachEvidence(result.runId, evidence.artifacts, {
        capture: {
          diagnosis: evidence.analysis.diagnosis,
          verdict: evidence.analysis.verdict,
          bytesRead: evidence.bytesRead,
          filesRead: evidence.filesRead,
        },
      });
      logger.info(
        {
          runId: result.runId,
          diagnosis: evidence.analysis.diagnosis,
          storedAfterWindowMs: evidence.storedAfterWindowMs,
        },
        'capture slice stored',
      );
    })
    .catch((error: Error) =>
      logger.error({ runId: result.runId, err: error.message }, 'capture slice failed'),
    );
}
