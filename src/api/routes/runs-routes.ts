import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { artifactKindOf } from '../../artifacts/artifact-kind.ts';
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import type { RunResult } from '../../results/run-result.ts';
import { apiError, runNotFound } from '../api-error.ts';
import { requireRole } from '../authorize-request.ts';
import { API_V1_ERRORS, errorResponses, fileResponse } from '../schemas/api-error-schema.ts';
import { captureRequestedSchema } from '../schemas/capture-schemas.ts';
import { runResultSchema } from '../schemas/run-result-schema.ts';
import { segmentParam } from './path-params.ts';
import { sendArtifact } from './send-artifact.ts';
import { linkQuery, refuseInvalidLink } from './signed-link-gate.ts';

const runParams = z.object({ runId: segmentParam().describe('A run id') });
const artifactParams = runParams.extend({ name: segmentParam().describe("An artifact's file name") });
const captureBody = z
  .strictObject({
    unfiltered: z
      .boolean({ error: 'must be true or false' })
      .optional()
      .describe("All of the host's traffic in the window, not only the run's flows (needs api.tokens)"),
  })
  .nullable();
const NO_RUN = { 404: 'No run with this id, or it expired (RUN_NOT_FOUND)' };
const TAGS = ['runs'];

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
        tags: TAGS,
        summary: 'Ask the host that ran it for its packet-capture slice (operator)',
        params: runParams,
        body: captureBody,
        response: {
          202: captureRequestedSchema,
          ...errorResponses({
            ...API_V1_ERRORS,
            403: "The token's role is below operator, or an unfiltered capture while the API has no tokens (UNFILTERED_CAPTURE_REFUSED)",
            ...NO_RUN,
            409: 'The run does not say which host ran it (RUN_HOST_UNKNOWN)',
            503: 'Redis is unreachable, or this process cannot send capture requests (NO_QUEUES)',
          }),
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
      if (!run) return reply.code(404).send(runNotFound(request.params.runId));
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

  app.get<{ Params: { runId: string } }>(
    '/api/v1/runs/:runId',
    {
      schema: {
        tags: TAGS,
        summary: 'One run: status, phases, error, peers, steps, assertions, artifacts',
        params: runParams,
        response: { 200: runResultSchema, ...errorResponses({ ...API_V1_ERRORS, ...NO_RUN }) },
      },
    },
    async (request, reply) => {
      const run = await recorder.runs.getRun(request.params.runId);
      if (!run) return reply.code(404).send(runNotFound(request.params.runId));
      return run;
    },
  );

  app.get<{ Params: { runId: string; name: string }; Querystring: z.output<typeof linkQuery> }>(
    '/api/v1/runs/:runId/artifacts/:name',
    {
      config: { signedLink: true },
      schema: {
        tags: TAGS,
        summary:
          'One of its artifacts, whole or the one byte range asked (screenshots: viewer; traces, HARs, captures: operator; or a signed link)',
        params: artifactParams,
        querystring: linkQuery,
        response: {
          200: fileResponse(
            'The artifact, with its stored Content-Type (pcaps as application/vnd.tcpdump.pcap)',
          ),
          206: fileResponse('The byte range the Range header asked; Content-Range says which'),
          ...errorResponses({
            ...API_V1_ERRORS,
            403: "The token's role is below what the artifact's kind needs, or the signed link is not valid (LINK_INVALID)",
            404: 'The run has no such artifact (ARTIFACT_NOT_FOUND)',
            410: 'The signed link has expired (LINK_EXPIRED)',
            416: true,
          }),
        },
      },
    },
    async (request, reply) => {
      const { runId, name } = request.params;
      if (request.query.sig !== undefined) {
        if (await refuseInvalidLink(reply, linkKey, runId, request.query)) return reply;
      } else if (
        // Screenshots are for every viewer; traces, HARs and captures hold request and
        // response contents: operators only. Asked before the run is read, so a viewer
        // learns nothing of which runs have which evidence.
        requireRole(request, reply, artifactKindOf(name) === 'screenshots' ? 'viewer' : 'operator')
      )
        return reply;
      const run = await recorder.runs.getRun(runId);
      const ref = run?.artifacts?.find((artifact) => artifact.key.split('/').pop() === name);
      const sent =
        ref && artifacts
          ? await sendArtifact(request, reply, artifacts, ref.key, `${runId}-${name}`)
          : undefined;
      if (sent) return sent;
      return reply.code(404).send(apiError('ARTIFACT_NOT_FOUND', `run "${runId}" has no artifact "${name}"`));
    },
  );
};
