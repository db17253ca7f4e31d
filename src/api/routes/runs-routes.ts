import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { artifactKindOf } from '../../artifacts/artifact-kind.ts';
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import { verifyLink } from '../../auth/signed-link.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import type { RunResult } from '../../results/run-result.ts';
import { apiError } from '../api-error.ts';
import { requireRole } from '../authorize-request.ts';
import { textParam } from '../query-params.ts';

/** A signed link's parameters (signed-link.ts); both or neither. */
const linkQuery = z.object({ exp: textParam(16).optional(), sig: textParam(64).optional() });

export interface RunsRoutesOptions {
  /** The key of signed links, loaded on first use; without it signed links are refused. */
  linkKey?: () => Promise<Buffer>;
  recorder: ResultsRecorder;
  artifacts?: ArtifactStore;
  /** Sends a capture request to the host that ran the run; resolves with the job id. */
  requestCapture?: (run: RunResult, unfiltered: boolean) => Promise<string>;
  /**
   * Whether the API asks for a token. An unfiltered capture holds every flow of the host in
   * the window, other checks' and other services' included, so an open API never hands it out.
   */
  apiHasTokens?: boolean;
}

/** One run by id (steps, phases, error, peers, artifacts), and its artifacts for download. */
export const runsRoutes: FastifyPluginAsync<RunsRoutesOptions> = async (
  app,
  { recorder, artifacts, requestCapture, apiHasTokens = false, linkKey },
) => {
  app.post<{ Params: { runId: string }; Body: { unfiltered?: boolean } | undefined }>(
    '/api/v1/runs/:runId/capture',
    {
      config: { role: 'operator' },
      schema: {
        body: {
          type: ['object', 'null'],
          properties: { unfiltered: { type: 'boolean' } },
          additionalProperties: false,
        },
      },
    },
    async (request, reply) => {
      if (request.body?.unfiltered && !apiHasTokens)
        return reply
          .code(403)
          .send(
            apiError(
              'UNFILTERED_CAPTURE_REFUSED',
              `an unfiltered capture holds all of the host's traffic in the window; it is refused while the API has no tokens: set api.tokens, or ask without "unfiltered" for the run's own flows`,
            ),
          );
      const run = await recorder.runs.getRun(request.params.runId);
      if (!run)
        return reply
          .code(404)
          .send(apiError('RUN_NOT_FOUND', `no run with id "${request.params.runId}" (it may have expired)`));
      if (!run.host)
        return reply.code(409).send(apiError('RUN_HOST_UNKNOWN', 'this run does not say which host ran it'));
      if (!requestCapture)
        return reply.code(503).send(apiError('NO_QUEUES', 'this API process cannot send capture requests'));
      const jobId = await requestCapture(run, request.body?.unfiltered ?? false);
      return reply.code(202).send({
        runId: run.runId,
        host: run.host,
        jobId,
        message: `requested from ${run.host}; the slice appears in the run's artifacts when the host has cut it`,
      });
    },
  );

  app.get<{ Params: { runId: string } }>('/api/v1/runs/:runId', async (request, reply) => {
    const run = await recorder.runs.getRun(request.params.runId);
    if (!run)
      return reply
        .code(404)
        .send(apiError('RUN_NOT_FOUND', `no run with id "${request.params.runId}" (it may have expired)`));
    return run;
  });

  app.get<{ Params: { runId: string; name: string }; Querystring: z.output<typeof linkQuery> }>(
    '/api/v1/runs/:runId/artifacts/:name',
    { config: { signedLink: true, query: linkQuery } },
    async (request, reply) => {
      const { exp, sig } = request.query;
      if (sig !== undefined) {
        // A signed link opens this run's evidence, all of it, and nothing else.
        if (!linkKey)
          return reply.code(403).send(apiError('LINK_INVALID', 'this API does not accept signed links'));
        const check = verifyLink(await linkKey(), request.params.runId, exp, sig);
        if (!check.ok)
          return check.reason === 'expired'
            ? reply
                .code(410)
                .send(
                  apiError(
                    'LINK_EXPIRED',
                    'this link has expired; open the run again from pathwatch, or ask for a new link',
                  ),
                )
            : reply
                .code(403)
                .send(
                  apiError('LINK_INVALID', 'this link is not valid (changed, cut short or for another run)'),
                );
      } else if (
        // Screenshots are for every viewer; traces, HARs and captures hold request and
        // response contents: operators only. Asked before the run is read, so a viewer
        // learns nothing of which runs have which evidence.
        requireRole(
          request,
          reply,
          artifactKindOf(request.params.name) === 'screenshots' ? 'viewer' : 'operator',
        )
      )
        return reply;
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
