import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import { escalationBundle } from '../../evidence/escalation-bundle.ts';
import { seriesAround, slotRunsOf } from '../../evidence/slot-runs.ts';
import { isKnownTimeZone } from '../../evidence/zoned-time.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import { apiError, runNotFound } from '../api-error.ts';
import { textParam } from '../query-params.ts';
import { API_V1_ERRORS, errorResponses, fileResponse } from '../schemas/api-error-schema.ts';
import type { MonitoredItem } from './checks-routes.ts';
import { segmentParam } from './path-params.ts';
import { runInHistory } from './run-in-history.ts';
import { linkQuery, refuseInvalidLink } from './signed-link-gate.ts';

/** Runs either side of the bundled one in timeline.txt's series. */
const NEIGHBOURS = 5;

const bundleQuery = linkQuery.extend({
  tz: textParam(64)
    .refine(isKnownTimeZone, { error: 'must be an IANA time zone such as "Europe/Berlin" or "UTC"' })
    .optional(),
});

const bundleParams = z.object({ runId: segmentParam().describe('A run id') });

export interface BundleRoutesOptions {
  items: MonitoredItem[];
  recorder: ResultsRecorder;
  artifacts?: ArtifactStore;
  /** Runs kept per check and location: a check's whole history is this times its locations. */
  runsPerSeries: number;
  /** `locations.<id>.description`, written beside each vantage point in summary.txt. */
  locationDescriptions: Record<string, string | undefined>;
  /** The key of signed links, loaded on first use; without it signed links are refused. */
  linkKey?: () => Promise<Buffer>;
}

/** GET /api/v1/runs/:runId/bundle: a run's escalation bundle, a zip streamed as it is made. */
export const bundleRoutes: FastifyPluginAsync<BundleRoutesOptions> = async (
  app,
  { items, recorder, artifacts, runsPerSeries, locationDescriptions, linkKey },
) => {
  app.get<{ Params: { runId: string }; Querystring: z.output<typeof bundleQuery> }>(
    '/api/v1/runs/:runId/bundle',
    {
      config: { role: 'operator', signedLink: true },
      schema: {
        tags: ['runs'],
        summary: "The run's escalation bundle: a zip streamed as it is made (operator, or a signed link)",
        params: bundleParams,
        querystring: bundleQuery,
        response: {
          200: fileResponse('The zip', 'application/zip'),
          ...errorResponses({
            ...API_V1_ERRORS,
            403: "The token's role is below operator, or the signed link is not valid (LINK_INVALID)",
            404: 'No run with this id, or it expired (RUN_NOT_FOUND)',
            410: 'The signed link has expired (LINK_EXPIRED)',
            503: 'Redis is unreachable, or this process has no artifact store (NO_ARTIFACT_STORE)',
          }),
        },
      },
    },
    async (request, reply) => {
      const { runId } = request.params;
      if (request.query.sig !== undefined && (await refuseInvalidLink(reply, linkKey, runId, request.query)))
        return reply;
      if (!artifacts)
        return reply.code(503).send(apiError('NO_ARTIFACT_STORE', 'this API process has no artifact store'));
      const found = await runInHistory(recorder, items, runsPerSeries, runId);
      if (!found) return reply.code(404).send(runNotFound(runId));
      const { run, item, history } = found;
      const stream = await escalationBundle(artifacts, {
        run,
        check: { id: run.checkId, name: item?.name ?? run.checkId, kind: run.kind },
        slot: slotRunsOf(run, history),
        series: seriesAround(run, history, NEIGHBOURS),
        timeZone: request.query.tz ?? 'UTC',
        locationDescriptions,
      });
      return reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="pathwatch-${run.checkId}-${runId}.zip"`)
        .send(stream);
    },
  );
};
