import type { CaptureAgent } from '../capture/capture-agent.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import type { RunResult } from '../src/results/run-result.ts';
import { slotOutcomeElsewhere } from '../src/results/slot-outcome-elsewhere.ts';
import type { Logger } from '../src/util/logger.ts';

/**
 * How long a slice waits for the other locations' runs of its slot. Past it, the diagnosis
 * names neither path nor target ("no other location's run of this slot to tell which"):
 * honest, if less precise. Bounded below the capture agent's 30 s grace for slices in flight
 * at a stop, so a stop never cuts a slice off before it is stored.
 */
const ELSEWHERE_WAIT_CAP_MS = 20_000;

/**
 * When a run failed at the network level, asks the host's capture agent for the slice
 * around it and attaches the pcap and its analysis to the stored run. In the background:
 * the window closes only `capture.after` past the run, and the worker need not wait.
 * Once `signal` aborts (the worker stops) the slice stops waiting for the other locations'
 * runs: it is still cut and stored, its diagnosis naming neither path nor target.
 */
export function attachCaptureInBackground(
  capture: CaptureAgent | undefined,
  result: RunResult,
  recorder: ResultsRecorder,
  logger: Logger,
  signal?: AbortSignal,
): void {
  if (!capture?.wants(result)) return;
  void capture
    .collect(result, {
      // The other locations' runs of the same slot decide whether unanswered packets are the
      // path's fault or the target's; waited for at most one interval (20 s at most),
      // polling more slowly the longer the wait.
      elsewhere: () => {
        const waitMs = Math.min(result.intervalMs ?? 0, ELSEWHERE_WAIT_CAP_MS);
        return untilAborted(
          slotOutcomeElsewhere(recorder.runs, result, {
            waitMs: signal?.aborted ? 0 : waitMs,
            pollMs: Math.min(2000, Math.max(250, waitMs / 30)),
          }),
          signal,
        );
      },
    })
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

/** `work`'s value, or undefined as soon as `signal` aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (!signal) return work;
  let onAbort = () => {};
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => resolve(undefined);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}
