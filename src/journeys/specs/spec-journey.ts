import type { LoadedJourney } from '../load-journey.ts';
import type { ResolvedJourney } from '../load-journeys.ts';

/** Which test of which suite a spec journey runs. */
export interface SpecTestRef {
  /** The suite's own playwright.config.ts (absolute). */
  configFile: string;
  /** The spec file (absolute) and the line of the test in it. */
  file: string;
  line: number;
  /** Titles from the file's describe blocks down to the test's own. */
  titlePath: string[];
  project: string;
  /** Playwright Test's ids of the test and its project, by which a warm worker runs it. */
  testId: string;
  projectId: string;
  /**
   * What needs Playwright Test's runner around each run (global setup, web servers, project
   * dependencies): when not empty, every run starts the runner instead of a warm worker.
   */
  needsRunner: string[];
  /** Secret names the tests read as PATHWATCH_SECRET_<NAME> (refs in `secretRefs`). */
  secretNames: string[];
}

/**
 * A Playwright Test test monitored as a journey: everything a journey is (id, settings,
 * params and secret references), plus the test it runs. Its `run` is never called: the
 * journey worker runs it through runSpecTest instead.
 */
export type SpecJourney = LoadedJourney & { spec: SpecTestRef };
export type ResolvedSpecJourney = ResolvedJourney & { spec: SpecTestRef };

export function isSpecJourney<T extends LoadedJourney>(journey: T): journey is T & { spec: SpecTestRef } {
  return (journey as { spec?: unknown }).spec !== undefined;
}
