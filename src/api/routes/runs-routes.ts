import type { FastifyPluginAsync } from 'fastify';
import type { ResultStore } from '../../results/result-store.ts';
import { apiError } from '../api-error.ts';

export interface RunsRoutesOptions {
  store: ResultStore;
}

/** One run by id: steps, phases, error, peers, artifacts. */
export const runsRoutes: FastifyPluginAsync<RunsRoutesOptions> = async (app, { store }) => {
  app.get<{ Params: { runId: string } }>('/api/v1/runs/:runId', async (request, reply) => {
    const run = await store.getRun(request.params.runId);
    if (!run)
      return reply
        .code(404)
        .send(apiError('RUN_NOT_FOUND', `no run with id "${request.params.runId}" (it may have expired)`));
    return run;
  });
};
