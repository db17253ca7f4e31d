import type { LoadedConfig } from '../config/load-config.ts';
import type { ResolvedJourney } from '../journeys/load-journeys.ts';
import type { LocationView, ResultsRecorder } from '../results/results-recorder.ts';
import type { Verdict } from '../results/verdict.ts';
import { sideOf } from '../results/verdict.ts';
import { buildMapGraph, type MapGraph, type MapLocationInput } from './map-graph.ts';
import type { MapItem } from './map-target.ts';

/** Checks and journeys as the map takes them; disabled ones draw no path (nothing runs them). */
export function mapItemsOf(config: LoadedConfig, journeys: ResolvedJourney[]): MapItem[] {
  return [...config.checks, ...journeys]
    .filter((item) => item.enabled !== false)
    .map((item) => item as unknown as MapItem);
}

/**
 * Reads what the map shows and builds it (buildMapGraph): every location's workers and
 * control check, each item's state per location, and its verdict. Each location and each
 * state is read once, and the verdicts are judged from those reads, so a map of 1,000 checks
 * costs one round of commands (ioredis pipelines what is sent together), not one per check.
 */
export async function readMapGraph(
  recorder: ResultsRecorder,
  config: LoadedConfig,
  items: MapItem[],
  now = Date.now(),
): Promise<MapGraph> {
  const settings = config.settings.locations;
  const [locations, states] = await Promise.all([
    Promise.all(
      config.locations.map(async (id): Promise<MapLocationInput> => {
        const controlCheck = settings[id]?.controlCheck;
        const [liveWorkers, control] = await Promise.all([
          recorder.workers.liveWorkers(id, now),
          controlCheck ? recorder.states.get(controlCheck, id) : undefined,
        ]);
        return {
          id,
          side: sideOf(id, settings[id]?.side),
          description: settings[id]?.description,
          liveWorkers,
          controlCheck,
          controlState: control?.state,
        };
      }),
    ),
    Promise.all(items.map((item) => recorder.states.forCheck(item.id, item.locations))),
  ]);
  const views: LocationView[] = locations.map((location) => ({
    id: location.id,
    side: location.side,
    live: location.liveWorkers > 0,
    controlDown: location.controlState === 'DOWN',
    controlCheck: location.controlCheck,
  }));
  const verdicts = new Map<string, Verdict>();
  await Promise.all(
    items.map(async (item, index) => {
      verdicts.set(
        item.id,
        await recorder.verdict(item.id, item.locations, { states: states[index], views, now }),
      );
    }),
  );
  return buildMapGraph({
    items,
    locations,
    states: new Map(items.map((item, index) => [item.id, states[index]])),
    verdicts,
    now,
  });
}
