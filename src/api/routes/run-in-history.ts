import type { ResultsRecorder } from '../../results/results-recorder.ts';
import type { RunResult } from '../../results/run-result.ts';
import type { MonitoredItem } from './checks-routes.ts';

/** A run, its check, and that check's history at every location, newest first. */
export interface RunInHistory {
  run: RunResult;
  item?: MonitoredItem;
  history: RunResult[];
}

/**
 * What the run page and the escalation bundle place a run in: its check's whole kept
 * history (`runsPerSeries` per location), where the slot's other locations and the run's
 * neighbours are. Undefined when the run itself is gone (expired or never stored).
 */
export async function runInHistory(
  recorder: ResultsRecorder,
  items: MonitoredItem[],
  runsPerSeries: number,
  runId: string,
): Promise<RunInHistory | undefined> {
  const run = await recorder.runs.getRun(runId);
  if (!run) return undefined;
  const item = items.find((candidate) => candidate.id === run.checkId);
  const locations = item?.locations ?? [run.location];
  const history = await recorder.runs.listRuns(run.checkId, {
    limit: runsPerSeries * Math.max(1, locations.length),
  });
  return { run, item, history };
}
