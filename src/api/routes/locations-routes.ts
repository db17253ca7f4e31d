import type { FastifyPluginAsync } from 'fastify';
import type { LoadedConfig } from '../../config/load-config.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import { sideOf } from '../../results/verdict.ts';

export interface LocationsRoutesOptions {
  config: LoadedConfig;
  recorder: ResultsRecorder;
}

/** Locations and whether a worker is alive at each: a dead location is shown, not blamed. */
export const locationsRoutes: FastifyPluginAsync<LocationsRoutesOptions> = async (
  app,
  { config, recorder },
) => {
  app.get('/api/v1/locations', async () => ({
    locations: await Promise.all(
      Object.entries(config.settings.locations).map(async ([id, location]) => ({
        id,
        description: location.description,
        side: sideOf(id, location.side),
        controlCheck: location.controlCheck,
        liveWorkers: await recorder.workers.liveWorkers(id),
        lastSeen: await recorder.workers.lastSeen(id),
        /** Each live worker with what it last reported, e.g. its packet-capture ring's health. */
        workers: await recorder.workers.describe(id),
      })),
    ),
  }));
};
