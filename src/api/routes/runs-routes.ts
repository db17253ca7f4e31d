import type { FastifyPluginAsync } from 'fastify';
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import { apiError } from '../api-error.ts';

export interface RunsRoutesOptions {
  recorder: ResultsRecorder;
  artifacts?: ArtifactStore;
}

/** One run by id (steps, phases, error, peers, artifacts), and its artifacts for download. */
export const runsRoutes: FastifyPluginAsync<RunsRoutesOptions> = async (app, { recorder, artifacts }) => {
  app.get<{ Params: { runId: string } }>('/api/v1/runs/:runId', async (request, reply) => {
    const run = await recorder.runs.getRun(request.params.runId);
    if (!run)
      return reply
        .code(404)
        .send(apiError('RUN_NOT_FOUND', `no run with id "${request.params.runId}" (it may have expired)`));
    return run;
  });

  app.get<{ Params: { runId: string; name: string } }>(
    '/api/v1/runs/:runId/artifacts/:name',
    async (request, reply) => {
      const run = await recorder.runs.getRun(request.params.runId);
      const ref = run?.artifacts?.find((artifact) => artifact.key.split('/').pop() === request.params.name);
      const found = ref && artifacts ? await artifacts.get(ref.key) : undefined;
      if (!found) {
        return reply
          .code(404)
          .send(
            apiError(
              'ARTIFACT_NOT_FOUND',
              `run "${request.params.runId}" has no artifact "${request.params.name}"`,
            ),
          );
      }
      return reply
        .header('content-type', found.info.contentType)
        .header('content-length', found.info.bytes)
        .header(
          'content-disposition',
          `attachment; filename="${request.params.runId}-${request.params.name}"`,
        )
        .send(found.stream);
    },
  );
};
