import type { LoadedConfig } from '../config/load-config.ts';
import type { ResolvedJourney } from '../journeys/load-journeys.ts';

/** `validate`'s success summary: how many checks of each kind run where. */
export function summarizeConfig(config: LoadedConfig, journeys: ResolvedJourney[] = []): string {
  const lines = [`${config.file}: OK`];
  lines.push(`  locations: ${config.locations.join(', ')}`);
  const byKind = new Map<string, Map<string, number>>();
  for (const check of config.checks) {
    const perLocation = byKind.get(check.kind) ?? new Map<string, number>();
    for (const location of check.locations) perLocation.set(location, (perLocation.get(location) ?? 0) + 1);
    byKind.set(check.kind, perLocation);
  }
  const disabled = config.checks.filter((check) => !check.enabled).length;
  lines.push(`  checks: ${config.checks.length}${disabled ? ` (${disabled} disabled)` : ''}`);
  for (const [kind, perLocation] of [...byKind].sort()) {
    const where = config.locations
      .map((location) => `${location} ${perLocation.get(location) ?? 0}`)
      .join(', ');
    lines.push(`    ${kind}: ${where}`);
  }
  if (journeys.length > 0) {
    const where = config.locations
      .map(
        (location) =>
          `${location} ${journeys.filter((journey) => journey.locations.includes(location)).length}`,
      )
      .join(', ');
    lines.push(`  journeys: ${journeys.length} (${where})`);
  }
  return lines.join('\n');
}
