import type { ConfigIssue } from '../config/config-error.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import { type ItemSettings, resolveItemSettings } from '../config/resolve-item-settings.ts';
import { globFiles } from '../util/glob-files.ts';
import { JourneyLoadError, type LoadedJourney, loadJourneyFile } from './load-journey.ts';
import { loadSpecJourneys } from './specs/load-spec-journeys.ts';

/**
 * A journey with the config's defaults applied, exactly as a check's are
 * (resolveItemSettings): what the scheduler, the workers and the API take it as.
 */
export type ResolvedJourney = LoadedJourney & ItemSettings & { kind: 'journey' };

/**
 * Every journey the config's `journeys` glob names, each validated; problems in all files
 * (and undeclared locations, duplicate ids) are reported together.
 */
export async function loadJourneys(
  config: LoadedConfig,
): Promise<{ journeys: ResolvedJourney[]; issues: ConfigIssue[] }> {
  const globs = config.settings.journeys === undefined ? [] : [config.settings.journeys].flat();
  const journeys: ResolvedJourney[] = [];
  const issues: ConfigIssue[] = [];
  const files = new Set<string>();
  for (const [index, glob] of globs.entries()) {
    const matched = await globFiles(config.dir, [glob]);
    // A glob that names nothing is a typo or a missing directory, and a journey that never runs.
    if (matched.length === 0) {
      issues.push({
        path: Array.isArray(config.settings.journeys) ? `journeys[${index}]` : 'journeys',
        message: `"${glob}" matches no file under ${config.dir}`,
      });
    }
    for (const file of matched) files.add(file);
  }
  const checkIds = new Set(config.checks.map((check) => check.id));
  for (const file of [...files].sort()) {
    let loaded: LoadedJourney[];
    try {
      loaded = await loadJourneyFile(file);
    } catch (error) {
      if (!(error instanceof JourneyLoadError)) throw error;
      issues.push({ path: error.file, message: error.message.slice(error.file.length + 2) });
      continue;
    }
    for (const journey of loaded) {
      const resolved: ResolvedJourney = {
        ...journey,
        kind: 'journey',
        ...resolveItemSettings(journey, config.settings.defaults, config.locations),
      };
      for (const location of resolved.locations) {
        if (!config.locations.includes(location)) {
          issues.push({
            path: `journey ${journey.id}`,
            message: `location "${location}" is not declared in locations (declared: ${config.locations.join(', ')})`,
          });
        }
      }
      if (checkIds.has(journey.id) || journeys.some((other) => other.id === journey.id)) {
        issues.push({ path: `journey ${journey.id}`, message: `duplicate id "${journey.id}" (${file})` });
      }
      journeys.push(resolved);
    }
  }
  // Playwright Test suites (`playwright`): each listed test is a journey too.
  const specs = await loadSpecJourneys(
    config,
    new Set([...checkIds, ...journeys.map((journey) => journey.id)]),
  );
  journeys.push(...specs.journeys);
  issues.push(...specs.issues);
  return { journeys, issues };
}
