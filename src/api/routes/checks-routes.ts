import type { FastifyPluginAsync } from 'fastify';
import type { LoadedConfig, ResolvedCheck } from '../../config/load-config.ts';
import type { ResultStore } from '../../results/result-store.ts';
import { apiError } from '../api-error.ts';

export interface ChecksRoutesOptions {
  config: LoadedConfig;
  store: ResultStore;
}

function describeCheck(check: ResolvedCheck) {
  return {
    id: check.id,
    name: check.name,
    kind: check.kind,
    intervalMs: check.interval,
    timeoutMs: check.timeout,
    locations: check.locations,
    enabled: check.enabled,
  };
}

/** Checks as configured, each with its latest run per location. */
export const checksRoutes: FastifyPluginAsync<ChecksRoutesOptions> = async (app, { config, store }) => {
  const checksById = new Map(config.checks.map((check) => [check.id, check]));

  app.get('/api/v1/checks', async () => {
    const checks = await Promise.all(
      config.checks.map(async (check) => ({ ...describeCheck(check), latest: await store.latest(check.id) })),
    );
    return { checks };
  });

  app.get<{ Params: { id: string } }>('/api/v1/checks/:id', async (request, reply) => {
    const check = checksById.get(request.params.id);
    if (!check)
      return reply.code(404).send(apiError('CHECK_NOT_FOUND', `no check with id "${request.params.id}"`));
    return { ...describeCheck(check), latest: await store.latest(check.id) };
  });

  app.get<{ Params: { id: string }; Querystring: { location?: string; limit?: string } }>(
    '/api/v1/checks/:id/runs',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { location: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 1000 } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      const check = checksById.get(request.params.id);
      if (!check)
        return reply.code(404).send(apiError('CHECK_NOT_FOUND', `no check with id "${request.params.id}"`));
      const { location, limit } = request.query;
      if (location !== undefined && !check.locations.includes(location)) {
        return reply
          .code(400)
          .send(
            apiError(
              'LOCATION_NOT_FOUND',
              `check "${check.id}" does not run at "${location}" (it runs at ${check.locations.join(', ')})`,
            ),
          );
      }
      const runs = await store.listRuns(check.id, {
        location,
        limit: limit === undefined ? 50 : Number(limit),
      });
      return { checkId: check.id, runs };
    },
  );
};
