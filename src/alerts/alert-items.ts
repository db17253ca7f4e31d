import type { LoadedConfig } from '../config/load-config.ts';
import type { ResolvedJourney } from '../journeys/load-journeys.ts';
import type { AlertItem } from './alert-event.ts';

/**
 * What alerts know of each check and journey: names, tags and subjects for the mail, the
 * interval and longest run for how long a verdict may wait, and which locations a control
 * check stands for.
 */
export function alertItems(config: LoadedConfig, journeys: ResolvedJourney[] = []): AlertItem[] {
  const controlOf = new Map<string, string[]>();
  for (const [location, settings] of Object.entries(config.settings.locations)) {
    if (settings?.controlCheck)
      controlOf.set(settings.controlCheck, [...(controlOf.get(settings.controlCheck) ?? []), location]);
  }
  const checks = config.checks.map((check) => ({ ...check, alertSubject: check.alertSubject }));
  return [...checks, ...journeys.map((journey) => ({ ...journey, alertSubject: undefined }))].map((item) => ({
    id: item.id,
    name: item.name ?? item.id,
    kind: item.kind,
    tags: item.tags ?? [],
    alertSubject: item.alertSubject,
    intervalMs: item.interval,
    timeoutMs: item.timeout * (item.retries + 1) + item.retryDelay * item.retries,
    downAfter: item.downAfter,
    locations: item.locations,
    controlOf: controlOf.get(item.id) ?? [],
  }));
}
