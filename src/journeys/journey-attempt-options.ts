import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import type { StepEvent } from './journey-step-result.ts';

/**
 * What one attempt of a journey needs, whichever runs it: a pathwatch journey in the
 * worker's browser (runJourney) or a Playwright Test spec under its own runner (runSpecTest).
 */
export interface JourneyAttemptOptions {
  /** Where the run's evidence (trace, screenshot, HAR) is stored, under `runs/<runId>/`. */
  artifacts: ArtifactStore;
  /** The config's secrets: the run masks their values, and the tokens it receives, everywhere. */
  secrets: SecretResolver;
  location: string;
  /** @defaultValue a random id (`pathwatch run`) */
  runId?: string;
  scheduledAt?: number;
  /** @defaultValue 1 */
  attempt?: number;
  /** Called as steps start and end: `pathwatch run` prints them live. */
  onStep?: (event: StepEvent) => void;
  /**
   * The caller's signal (the worker's job). When it aborts, the run is cut at once, no
   * evidence is collected, and it ends as status `error` with the abort reason
   * ("cancelled by shutdown").
   */
  signal?: AbortSignal;
}
