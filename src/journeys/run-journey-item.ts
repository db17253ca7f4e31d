import type { RunResult } from '../results/run-result.ts';
import type { BrowserPool } from './browser-pool.ts';
import type { BrowserSettings } from './browser-settings.ts';
import type { JourneyAttemptOptions } from './journey-attempt-options.ts';
import type { LoadedJourney } from './load-journey.ts';
import { runJourney } from './run-journey.ts';
import { runSpecTest } from './specs/run-spec-test.ts';
import { isSpecJourney } from './specs/spec-journey.ts';
import type { SpecWorkerPool } from './specs/spec-worker-pool.ts';

export interface RunJourneyItemOptions extends JourneyAttemptOptions {
  /** The worker's browser: a pathwatch journey runs in a fresh context of it. */
  pool: BrowserPool;
  settings: BrowserSettings;
  /** Extra Chromium flags for a spec's own browser (tests keep Chromium on loopback). */
  extraBrowserArgs?: string[];
  /** Warm Playwright Test workers for spec journeys (without it, each run starts the runner). */
  specWorkers?: SpecWorkerPool;
}

/**
 * One attempt of a journey item, whichever kind of journey it is: a Playwright Test spec
 * (config `playwright`) runs in a warm Playwright Test worker or under its runner, anything else in the worker's browser.
 * The one place that tells them apart, for the worker and `pathwatch run` alike.
 */
export function runJourneyItem(journey: LoadedJourney, options: RunJourneyItemOptions): Promise<RunResult> {
  return isSpecJourney(journey) ? runSpecTest(journey, options) : runJourney(journey, options);
}
