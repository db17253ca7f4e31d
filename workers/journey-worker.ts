import type { Redis } from 'ioredis';
import type { CaptureAgent } from '../capture/capture-agent.ts';
import type { ArtifactStore } from '../src/artifacts/artifact-store.ts';
import type { LoadedConfig } from '../src/config/load-config.ts';
import { BrowserPool } from '../src/journeys/browser-pool.ts';
import type { ResolvedJourney } from '../src/journeys/load-journeys.ts';
import { runJourneyItem } from '../src/journeys/run-journey-item.ts';
import { SpecWorkerPool } from '../src/journeys/specs/spec-worker-pool.ts';
import type { ResultsRecorder } from '../src/results/results-recorder.ts';
import type { RunResult } from '../src/results/run-result.ts';
import type { Logger } from '../src/util/logger.ts';
import { ItemWorker } from './item-worker.ts';
import { logSpecRunners } from './log-spec-runners.ts';

export interface JourneyWorkerOptions {
  config: LoadedConfig;
  journeys: ResolvedJourney[];
  location: string;
  connection: Redis;
  recorder: ResultsRecorder;
  artifacts: ArtifactStore;
  logger: Logger;
  /** Extra Chromium flags (tests keep Chromium on loopback). */
  extraBrowserArgs?: string[];
  onResult?: (result: RunResult) => void;
  /** The host's capture agent: failed runs get the packet-capture slice around them. */
  capture?: CaptureAgent;
}

/**
 * Consumes one location's journeys queue, through the same worker as checks, with one
 * Chromium it holds for its life (journeys get their own queue and `browserConcurrency`),
 * and warm Playwright Test workers for the spec journeys. `close()` cancels the journeys in
 * flight (their pages close, their bodies stop, each is stored as "cancelled by shutdown"),
 * then closes the browser and the spec workers: no Chromium outlives it.
 */
export function startJourneyWorker(options: JourneyWorkerOptions): ItemWorker<ResolvedJourney> {
  const { config, location } = options;
  const pool = new BrowserPool({ settings: config.settings.browser, extraArgs: options.extraBrowserArgs });
  const specWorkers = new SpecWorkerPool({ recycleAfterRuns: config.settings.browser.recycleAfterRuns });
  logSpecRunners(options.journeys, options.logger, location);
  return new ItemWorker({
    ...options,
    queue: 'journeys',
    items: options.journeys,
    concurrency: config.settings.workers.browserConcurrency,
    resource: { close: async () => void (await Promise.all([pool.close(), specWorkers.close()])) },
    runAttempt: (journey, request) =>
      runJourneyItem(journey, {
        pool,
        specWorkers,
        artifacts: options.artifacts,
        secrets: config.secrets,
        settings: config.settings.browser,
        extraBrowserArgs: options.extraBrowserArgs,
        location,
        ...request,
      }),
  });
}
