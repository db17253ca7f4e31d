import type { FastifyPluginAsync } from 'fastify';
import type { LoadedConfig } from '../../config/load-config.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import { sideOf } from '../../results/verdict.ts';
import { API_V1_ERRORS, errorResponses } from '../schemas/api-error-schema.ts';
import { locationsListSchema } from '../schemas/location-schemas.ts';

export interface LocationsRoutesOptions {
  config: LoadedConfig;
  recorder: ResultsRecorder;
}

/** Locations and whether a worker is alive at each: a dead location is shown, not blamed. */
export const locationsRoutes: FastifyPluginAsync<LocationsRoutesOptions> = async (
  app,
  { config, recorder },
) => {
  const schema = {
    tags: ['locations'],
    summary: 'Locations and whether a worker is alive at each',
    response: { 200: locationsListSchema, ...errorResponses(API_V1_ERRORS) },
  };
  app.get('/api/v1/locations', { schema }, async () => ({
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
