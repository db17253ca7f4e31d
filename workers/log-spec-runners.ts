import type { LoadedJourney } from '../src/journeys/load-journey.ts';
import { playwrightWorkerEntry } from '../src/journeys/specs/playwright-worker-entry.ts';
import { isSpecJourney } from '../src/journeys/specs/spec-journey.ts';
import type { Logger } from '../src/util/logger.ts';

/**
 * Says, once at start, which spec journeys cannot run in a warm worker and why: each of their
 * runs starts Playwright Test's runner (seconds of CPU), which an operator should know.
 */
export function logSpecRunners(journeys: LoadedJourney[], logger: Logger, location: string): void {
  const specs = journeys.filter(isSpecJourney);
  if (specs.length === 0) return;
  const entry = playwrightWorkerEntry();
  if ('unsupported' in entry) {
    logger.warn(
      { location, journeys: specs.length },
      `spec journeys run under Playwright Test's runner every time: ${entry.unsupported}`,
    );
    return;
  }
  for (const journey of specs.filter((spec) => spec.spec.needsRunner.length > 0))
    logger.info(
      { location, journey: journey.id },
      `journey "${journey.id}" runs under Playwright Test's runner every time: its suite uses ${journey.spec.needsRunner.join(', ')}`,
    );
}
