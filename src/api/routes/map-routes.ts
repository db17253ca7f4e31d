import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { LoadedConfig } from '../../config/load-config.ts';
import type { ResolvedJourney } from '../../journeys/load-journeys.ts';
import { MAP_LANGUAGES } from '../../map/map-messages.ts';
import { mapItemsOf, readMapGraph } from '../../map/read-map-graph.ts';
import { renderMapSvg } from '../../map/render-map-svg.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import { API_V1_ERRORS, errorResponses, fileResponse } from '../schemas/api-error-schema.ts';
import { mapGraphSchema } from '../schemas/map-schemas.ts';

export interface MapRoutesOptions {
  config: LoadedConfig;
  journeys: ResolvedJourney[];
  recorder: ResultsRecorder;
}

const svgQuery = z.object({
  lang: z.enum(MAP_LANGUAGES, { error: 'must be "en" or "ja"' }).optional(),
});
const TAGS = ['map'];

/** The map of paths: locations → (the line →) services, each path with its state and checks. */
export const mapRoutes: FastifyPluginAsync<MapRoutesOptions> = async (
  app,
  { config, journeys, recorder },
) => {
  const items = mapItemsOf(config, journeys);
  app.get(
    '/api/v1/map',
    {
      schema: {
        tags: TAGS,
        summary:
          'Locations, services and the paths between them, each path with its state and failing checks',
        response: { 200: mapGraphSchema, ...errorResponses(API_V1_ERRORS) },
      },
    },
    async () => readMapGraph(recorder, config, items),
  );
  app.get<{ Querystring: z.output<typeof svgQuery> }>(
    '/api/v1/map.svg',
    {
      schema: {
        tags: TAGS,
        summary: 'The same map drawn as a self-contained SVG (no script, no external font)',
        querystring: svgQuery,
        response: {
          200: fileResponse('The map; each path links to the checks on it', 'image/svg+xml'),
          ...errorResponses(API_V1_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const language = request.query.lang ?? 'en';
      const svg = renderMapSvg(await readMapGraph(recorder, config, items), { language });
      return reply
        .header('content-type', 'image/svg+xml; charset=utf-8')
        .header('content-language', language)
        .header('cache-control', 'no-store')
        .send(svg);
    },
  );
};
