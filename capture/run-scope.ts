import type { ErrorClass, RunResult } from '../src/results/run-result.ts';
import type { ElsewhereOutcome } from '../src/results/slot-outcome-elsewhere.ts';

export type { ElsewhereOutcome };

/**
 * The run a capture slice is about. A slice spans seconds before and after the run and
 * holds other runs' flows to the same peer too; only the run's own flows (by its local
 * ports when the probe knew them, else by its time span) are diagnosed, the rest is context.
 */
export interface RunScope {
  /** Epoch ms: the run's time span. */
  startedAt: number;
  finishedAt: number;
  /** Local (client) ports of the run's connections, when the probe recorded them. */
  localPorts: number[];
  /**
   * The servers the run talked to or tried (its peers): when none of its ports is in the
   * capture, a flow to another server is not the run's, whenever it began.
   */
  servers?: Array<{ ip: string; port: number }>;
  /** The run's timeout: a SYN-ACK later than this came after the client gave up. */
  timeoutMs?: number;
  /** What the probe saw: a connect error with nothing on the wire means nothing was sent. */
  error?: { class: ErrorClass; phase?: string; message: string };
  /** From the other locations' runs of the same slot, so the diagnosis agrees with the verdict. */
  elsewhere?: ElsewhereOutcome;
}

/** The scope of a stored run: its span, its local ports, its timeout and error. */
export function runScopeOf(result: RunResult, elsewhere?: ElsewhereOutcome): RunScope {
  return {
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    localPorts: result.localPorts ?? [],
    servers: result.peers ?? [],
    timeoutMs: result.timeoutMs,
    error: result.error,
    elsewhere,
  };
}
