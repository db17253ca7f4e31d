import type { LoadedConfig } from '../../src/config/load-config.ts';
import { loadJourneys, type ResolvedJourney } from '../../src/journeys/load-journeys.ts';
import { CliExit, EXIT_USAGE } from './cli-exit.ts';

/** Journey files are part of the config: a broken one stops start-up like a config error. */
export async function loadJourneysOrExit(
  config: LoadedConfig,
  exitCode = EXIT_USAGE,
): Promise<ResolvedJourney[]> {
  const { journeys, issues } = await loadJourneys(config);
  if (issues.length > 0) {
    // Where the journeys come from: the journey globs and the Playwright Test suites.
    const sources = [
      ...[config.settings.journeys ?? []].flat(),
      ...(config.settings.playwright ?? []).map((suite) => suite.config),
    ];
    throw new CliExit(
      exitCode,
      `${config.file}: journeys (${sources.join(', ')}): ${issues.length} problem${issues.length === 1 ? '' : 's'}\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n')}`,
    );
  }
  return journeys;
}
