import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { MaintenanceCalendar } from '../../alerts/maintenance-calendar.ts';
import type { LocationView, ResultsRecorder } from '../../results/results-recorder.ts';
import { apiError } from '../api-error.ts';
import { integerParam, textParam } from '../query-params.ts';
import { API_V1_ERRORS, errorResponses } from '../schemas/api-error-schema.ts';
import {
  checkIncidentsSchema,
  checkRollupsSchema,
  checkRunsSchema,
  checkSchema,
  checksListSchema,
  runNowSchema,
} from '../schemas/check-schemas.ts';

/** A check or a journey, as the API lists it. */
export interface MonitoredItem {
  id: string;
  name: string;
  kind: string;
  intervalMs: number;
  timeoutMs: number;
  locations: string[];
  enabled: boolean;
  tags?: string[];
}

const runsQuery = z.object({
  location: textParam(100).optional(),
  limit: integerParam(1, 1000).optional(),
});
/** At most 31 days of hourly rows per request: 9600 hours answered 1.1 MB. */
const rollupsQuery = z.object({ hours: integerParam(1, 24 * 31).optional() });
const checkParams = z.object({ id: z.string().describe('The id of a check or journey') });
const UNKNOWN_CHECK = { 404: 'No check or journey with this id (CHECK_NOT_FOUND)' };
const TAGS = ['checks'];

export interface ChecksRoutesOptions {
  items: MonitoredItem[];
  recorder: ResultsRecorder;
  /** Names the windows that covered each incident; without it incidents name none. */
  maintenance?: Pick<MaintenanceCalendar, 'coveringDuring'>;
  /** Queues a run of the item at every one of its locations now; absent where the API has no queues. */
  runNow?: (item: MonitoredItem) => Promise<string[]>;
}

/** Checks and journeys, each with its latest run, state per location and verdict. */
export const checksRoutes: FastifyPluginAsync<ChecksRoutesOptions> = async (
  app,
  { items, recorder, runNow, maintenance },
) => {
  const byId = new Map(items.map((item) => [item.id, item]));
  const describe = async (item: MonitoredItem, views?: LocationView[]) => {
    const [latest, states] = await Promise.all([
      recorder.runs.latest(item.id),
      recorder.states.forCheck(item.id, item.locations),
    ]);
    return {
      ...item,
      latest,
      states,
      verdict: await recorder.verdict(item.id, item.locations, { states, views }),
    };
  };
  /**
   * A handler for a route under `/api/v1/checks/:id`: the item is looked up first and an
   * unknown id answered 404, so `handle` is only ever given an item that exists.
   */
  const forItem =
    <Query>(
      handle: (
        item: MonitoredItem,
        request: FastifyRequest<{ Params: { id: string }; Querystring: Query }>,
        reply: FastifyReply,
      ) => Promise<unknown>,
    ) =>
    async (request: FastifyRequest<{ Params: { id: string }; Querystring: Query }>, reply: FastifyReply) => {
      const item = byId.get(request.params.id);
      if (!item)
        return reply
          .code(404)
          .send(apiError('CHECK_NOT_FOUND', `no check or journey with id "${request.params.id}"`));
      return handle(item, request, reply);
    };

  app.get(
    '/api/v1/checks',
    {
      schema: {
        tags: TAGS,
        summary: 'Checks and journeys, each with its latest run, state per location and verdict',
        response: { 200: checksListSchema, ...errorResponses(API_V1_ERRORS) },
      },
    },
    async () => {
      const views = await recorder.describeLocations(); // once for the whole list
      return { checks: await Promise.all(items.map((item) => describe(item, views))) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/checks/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'One check or journey',
        params: checkParams,
        response: { 200: checkSchema, ...errorResponses({ ...API_V1_ERRORS, ...UNKNOWN_CHECK }) },
      },
    },
    forItem(async (item) => describe(item)),
  );

  app.get<{ Params: { id: string }; Querystring: z.output<typeof runsQuery> }>(
    '/api/v1/checks/:id/runs',
    {
      schema: {
        tags: TAGS,
        summary: 'Its newest runs (at one location or all) and the schedule slots that had none',
        params: checkParams,
        querystring: runsQuery,
        response: {
          200: checkRunsSchema,
          ...errorResponses({
            ...API_V1_ERRORS,
            400: 'A parameter is not what the route takes, or the check does not run at `location` (LOCATION_NOT_FOUND)',
            ...UNKNOWN_CHECK,
          }),
        },
      },
    },
    forItem(async (item, request, reply) => {
      const { location, limit } = request.query;
      if (location !== undefined && !item.locations.includes(location)) {
        return reply
          .code(400)
          .send(
            apiError(
              'LOCATION_NOT_FOUND',
              `"${item.id}" does not run at "${location}" (it runs at ${item.locations.join(', ')})`,
            ),
          );
      }
      const runs = await recorder.runs.listRuns(item.id, { location, limit: limit ?? 50 });
      // Slots that had no run, over the same stretch of history as the runs listed.
      const oldest = runs.length === (limit ?? 50) ? runs.at(-1) : undefined;
      const gaps = await recorder.missedSlots.gaps(item.id, location ? [location] : item.locations, {
        since: oldest ? (oldest.scheduledAt ?? oldest.startedAt) : undefined,
        limit: limit ?? 50,
      });
      return { checkId: item.id, runs, gaps };
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/v1/checks/:id/incidents',
    {
      schema: {
        tags: TAGS,
        summary: 'Its incidents, newest first',
        params: checkParams,
        response: { 200: checkIncidentsSchema, ...errorResponses({ ...API_V1_ERRORS, ...UNKNOWN_CHECK }) },
      },
    },
    forItem(async (item) => {
      const incidents = await recorder.incidents.list(item.id);
      // Each incident names the maintenance windows that covered it: its alerts were held.
      const now = Date.now();
      const withWindows = await Promise.all(
        incidents.map(async (incident) => {
          const windows = maintenance
            ? await maintenance.coveringDuring(
                { checkId: item.id, tags: item.tags ?? [], locations: incident.locations },
                incident.start,
                incident.end ?? now,
              )
            : [];
          return windows.length > 0
            ? { ...incident, maintenance: windows.map((window) => window.name) }
            : incident;
        }),
      );
      return { checkId: item.id, incidents: withWindows };
    }),
  );

  app.get<{ Params: { id: string }; Querystring: z.output<typeof rollupsQuery> }>(
    '/api/v1/checks/:id/rollups',
    {
      schema: {
        tags: TAGS,
        summary: 'Hourly rollups per location (count, failures, latency percentiles)',
        params: checkParams,
        querystring: rollupsQuery,
        response: { 200: checkRollupsSchema, ...errorResponses({ ...API_V1_ERRORS, ...UNKNOWN_CHECK }) },
      },
    },
    forItem(async (item, request) => {
      const hours = request.query.hours ?? 24;
      const perLocation = await Promise.all(
        item.locations.map((location) => recorder.rollups.hourly(item.id, location, hours)),
      );
      return {
        checkId: item.id,
        rollups: Object.fromEntries(item.locations.map((location, index) => [location, perLocation[index]])),
      };
    }),
  );

  app.post<{ Params: { id: string } }>(
    '/api/v1/checks/:id/run',
    {
      config: { role: 'operator' },
      schema: {
        tags: TAGS,
        summary: 'Run it now at every one of its locations (operator)',
        params: checkParams,
        response: {
          202: runNowSchema,
          ...errorResponses({
            ...API_V1_ERRORS,
            ...UNKNOWN_CHECK,
            503: 'Redis is unreachable, or this process does not run the scheduler (NO_QUEUES)',
          }),
        },
      },
    },
    forItem(async (item, _request, reply) => {
      if (!runNow)
        return reply
          .code(503)
          .send(apiError('NO_QUEUES', 'this API process does not run the scheduler; use the one that does'));
      const jobIds = await runNow(item);
      return reply.code(202).send({ checkId: item.id, locations: item.locations, jobIds });
    }),
  );
};
