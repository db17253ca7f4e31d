import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ArtifactStore } from '../../artifacts/artifact-store.ts';
import { listCaptures } from '../../evidence/list-captures.ts';
import type { ResultsRecorder } from '../../results/results-recorder.ts';
import { ApiRequestError, apiError, quoteInput } from '../api-error.ts';
import { integerParam, textParam } from '../query-params.ts';
import { fileResponse } from '../schemas/api-error-schema.ts';
import { capturesListSchema } from '../schemas/capture-schemas.ts';
import type { MonitoredItem } from './checks-routes.ts';
import { segmentParam } from './path-params.ts';
import { sendArtifact } from './send-artifact.ts';
import { timeParam } from './time-param.ts';
import { v1Route } from './v1-route.ts';

const capturesQuery = z.object({
  check: textParam(100).optional(),
  location: textParam(100).optional(),
  from: timeParam().optional(),
  to: timeParam().optional(),
  limit: integerParam(1, 1000).optional(),
});

const collectionParams = z.object({
  id: segmentParam().describe("A periodic collection's id"),
  file: segmentParam().describe('A file of it'),
});
const TAGS = ['captures'];

export interface CapturesRoutesOptions {
  items: MonitoredItem[];
  /** Every declared location, to tell a mistyped one from one with no captures. */
  locations: string[];
  recorder: ResultsRecorder;
  artifacts?: ArtifactStore;
  /** Runs kept per check and location (`runsPerSeries`): how deep a check's history goes. */
  runsPerSeries: number;
}

/** Lists packet captures (run slices and periodic collections) and serves the collections. */
export const capturesRoutes: FastifyPluginAsync<CapturesRoutesOptions> = async (
  app,
  { items, locations, recorder, artifacts, runsPerSeries },
) => {
  const refuse = (name: string, expected: string, value: unknown) =>
    new ApiRequestError(
      400,
      'BAD_REQUEST',
      `query parameter "${name}" ${expected}, got ${quoteInput(value)}`,
    );
  const oneOf = (values: string[]) =>
    values.length > 12 ? `${values.slice(0, 12).join(', ')}, …` : values.join(', ');

  app.get<{ Querystring: z.output<typeof capturesQuery> }>(
    '/api/v1/captures',
    v1Route({
      role: 'operator',
      tags: TAGS,
      summary: 'Packet captures (run slices and periodic collections), newest first (operator)',
      querystring: capturesQuery,
      answers: { 200: capturesListSchema },
    }),
    async (request) => {
      const { check, location, from, to, limit } = request.query;
      const item = check === undefined ? undefined : items.find((candidate) => candidate.id === check);
      if (check !== undefined && !item)
        throw refuse(
          'check',
          `must be the id of a check or journey (${oneOf(items.map((i) => i.id))})`,
          check,
        );
      if (location !== undefined && !locations.includes(location))
        throw refuse('location', `must be a declared location (${oneOf(locations)})`, location);
      if (from !== undefined && to !== undefined && from > to)
        throw refuse(
          'from',
          `must not be later than "to" (${new Date(to).toISOString()})`,
          new Date(from).toISOString(),
        );
      const checks = (item ? [item] : items)
        .filter((candidate) => location === undefined || candidate.locations.includes(location))
        .map((candidate) => ({
          id: candidate.id,
          depth: runsPerSeries * (location === undefined ? candidate.locations.length : 1),
        }));
      return listCaptures(recorder.runs, artifacts, {
        checks,
        location,
        from,
        to,
        limit: limit ?? 100,
        includeCollections: check === undefined && location === undefined,
      });
    },
  );

  app.get<{ Params: { id: string; file: string } }>(
    '/api/v1/captures/collections/:id/:file',
    v1Route({
      role: 'operator',
      tags: TAGS,
      summary: 'A file of a periodic collection, whole or the one byte range asked (operator)',
      params: collectionParams,
      answers: {
        200: fileResponse('The capture', 'application/vnd.tcpdump.pcap'),
        206: fileResponse('The byte range the Range header asked', 'application/vnd.tcpdump.pcap'),
      },
      errors: { 404: 'The collection has no such file (CAPTURE_NOT_FOUND)', 416: true },
    }),
    async (request, reply) => {
      const { id: collection, file } = request.params;
      const sent = artifacts
        ? await sendArtifact(
            request,
            reply,
            artifacts,
            `captures/${collection}/${file}`,
            `${collection}-${file}`,
          )
        : undefined;
      if (sent) return sent;
      return reply
        .code(404)
        .send(apiError('CAPTURE_NOT_FOUND', `periodic collection "${collection}" has no file "${file}"`));
    },
  );
};
