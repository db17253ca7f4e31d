import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processTempDir } from '../util/process-temp-dir.ts';
import type { BrowserSettings } from './browser-settings.ts';
import type { JourneyRunRecord } from './finish-journey-run.ts';
import type { JourneyAttemptOptions } from './journey-attempt-options.ts';
import type { LoadedJourney } from './load-journey.ts';
import { PageObservations } from './page-observations.ts';
import { RunArtifacts } from './run-artifacts.ts';

/**
 * The record of a journey attempt as it starts, whichever runs it (runJourney, runSpecTest):
 * its identity, its own resolver (tokens the run receives are masked in its result and
 * evidence like the secrets it was given), and no steps or evidence yet.
 */
export function startJourneyRun(
  journey: Pick<LoadedJourney, 'id' | 'interval'>,
  options: JourneyAttemptOptions,
): JourneyRunRecord {
  const runId = options.runId ?? randomUUID();
  const secrets = options.secrets.forRun();
  return {
    identity: {
      runId,
      checkId: journey.id,
      kind: 'journey',
      location: options.location,
      scheduledAt: options.scheduledAt,
      startedAt: Date.now(),
      attempt: options.attempt ?? 1,
      // Its schedule slot (⌊scheduledAt / interval⌋) judges it alongside the other locations' runs.
      ...(journey.interval !== undefined ? { intervalMs: journey.interval } : {}),
    },
    t0: performance.now(),
    steps: [],
    observations: new PageObservations(secrets),
    artifacts: new RunArtifacts(options.artifacts, runId, secrets),
    secrets,
  };
}

/** Whether this attempt is traced: `on-first-retry` traces only the confirmation attempt of a failed run. */
export function tracesAttempt(trace: BrowserSettings['trace'], attempt = 1): boolean {
  return trace === 'on' || trace === 'retain-on-failure' || (trace === 'on-first-retry' && attempt > 1);
}

/**
 * Runs `run` with a temp directory of its own (`prefix` names it), removed however the run
 * ends: it holds the run's raw trace and HAR, secrets not yet masked.
 */
export async function inRunWorkDir<T>(prefix: string, run: (workDir: string) => Promise<T>): Promise<T> {
  const workDir = await mkdtemp(join(processTempDir(), prefix));
  try {
    return await run(workDir);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
