import type { ResultStore } from './result-store.ts';
import type { RunResult } from './run-result.ts';

/** How the other locations' runs of the same check and slot fared, when known. */
export type ElsewhereOutcome =
  /** Every other location's run of the slot failed too: the target itself, not a path. */
  | 'all-failing'
  /** At least one other location's run of the slot passed: this location's path or host. */
  | 'others-passing';

/** The slot a scheduled run fills; runs at every location with the same index fill the same slot. */
export function slotIndex(run: Pick<RunResult, 'scheduledAt' | 'intervalMs'>): number | undefined {
  if (run.scheduledAt === undefined || !run.intervalMs) return undefined;
  return Math.floor(run.scheduledAt / run.intervalMs);
}

/**
 * The other locations' runs of `result`'s slot (each location's last attempt), from the
 * check's recent runs. The locations are those that ran the check recently.
 */
export async function slotRunsElsewhere(
  store: ResultStore,
  result: RunResult,
): Promise<{ locations: Set<string>; runs: Map<string, RunResult> }> {
  const slot = slotIndex(result);
  const recent = await store.listRuns(result.checkId, { limit: 50 });
  const locations = new Set(recent.map((run) => run.location).filter((id) => id !== result.location));
  const runs = new Map<string, RunResult>();
  if (slot === undefined) return { locations, runs };
  for (const run of recent) {
    if (run.location === result.location || slotIndex(run) !== slot || run.status === 'error') continue;
    const known = runs.get(run.location);
    if (!known || run.attempt > known.attempt) runs.set(run.location, run);
  }
  return { locations, runs };
}

/**
 * Waits (at most `waitMs`) for the other locations' runs of the same slot and says whether
 * they all failed the same way (same error class) or some passed; undefined when it cannot
 * tell (a run-now, no other location, runs that failed differently or did not come in time).
 */
export async function slotOutcomeElsewhere(
  store: ResultStore,
  result: RunResult,
  options: { waitMs: number; pollMs?: number },
): Promise<ElsewhereOutcome | undefined> {
  if (slotIndex(result) === undefined) return undefined;
  const deadline = Date.now() + options.waitMs;
  for (;;) {
    const { locations, runs } = await slotRunsElsewhere(store, result);
    if (locations.size === 0) return undefined;
    const others = [...runs.values()];
    if (others.some((run) => run.status === 'pass' || run.status === 'degraded')) return 'others-passing';
    if (runs.size === locations.size) {
      const alike = others.every((run) => run.status === 'fail' && run.error?.class === result.error?.class);
      return alike ? 'all-failing' : undefined;
    }
    if (Date.now() >= deadline) return undefined;
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(options.pollMs ?? 250, deadline - Date.now())),
    );
  }
}
