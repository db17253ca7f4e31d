import type { RunResult } from '../results/run-result.ts';

/**
 * Whether two runs of one check fill the same schedule slot: the same `scheduledAt`, or the
 * same ⌊scheduledAt / interval⌋ (run-result.ts) when a location's job was a little off the
 * slot's start. A run without `scheduledAt` (stored before it existed) fills a slot alone.
 */
export function sameSlot(a: RunResult, b: RunResult): boolean {
  if (a.runId === b.runId) return true;
  if (a.scheduledAt === undefined || b.scheduledAt === undefined) return false;
  if (a.scheduledAt === b.scheduledAt) return true;
  const interval = a.intervalMs ?? b.intervalMs;
  return (
    interval !== undefined &&
    interval > 0 &&
    Math.floor(a.scheduledAt / interval) === Math.floor(b.scheduledAt / interval)
  );
}

/** The runs (every location, every attempt) in `run`'s slot, by location, then attempt. */
export function slotRunsOf(run: RunResult, history: RunResult[]): RunResult[] {
  const byId = new Map([run, ...history].filter((other) => sameSlot(run, other)).map((r) => [r.runId, r]));
  return [...byId.values()].sort(
    (a, b) =>
      a.location.localeCompare(b.location) ||
      a.attempt - b.attempt ||
      a.startedAt - b.startedAt ||
      a.runId.localeCompare(b.runId),
  );
}

/** `run` and up to `count` runs either side of it in its series (same location), oldest first. */
export function seriesAround(run: RunResult, history: RunResult[], count: number): RunResult[] {
  const series = [
    ...new Map(
      [run, ...history].filter((other) => other.location === run.location).map((r) => [r.runId, r]),
    ).values(),
  ].sort((a, b) => a.startedAt - b.startedAt || a.runId.localeCompare(b.runId));
  const at = series.findIndex((other) => other.runId === run.runId);
  return series.slice(Math.max(0, at - count), at + count + 1);
}
