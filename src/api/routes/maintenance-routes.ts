import type { FastifyPluginAsync, FastifySchemaCompiler } from 'fastify';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import {
  type ActiveMaintenance,
  type ListedMaintenanceWindow,
  MaintenanceCalendar,
  MaintenanceConfiguredError,
  MaintenanceNameTakenError,
} from '../../alerts/maintenance-calendar.ts';
import type { LoadedConfig } from '../../config/load-config.ts';
import { type MaintenanceWindowInput, maintenanceSchema } from '../../config/maintenance-schema.ts';
import { schemaIssueLines } from '../../config/schema-issue-lines.ts';
import { identifier } from '../../config/zod-helpers.ts';
import { formatDuration } from '../../util/duration.ts';
import { ApiRequestError, apiError } from '../api-error.ts';
import { zodValidatorCompiler } from '../schema-compilers.ts';
import {
  maintenanceListSchema,
  maintenanceRemovedSchema,
  maintenanceWindowSchema,
} from '../schemas/maintenance-schemas.ts';
import { timeParam } from './time-param.ts';
import { v1Route } from './v1-route.ts';

const DAY_MS = 86_400_000;
/** How far before and after now GET looks for occurrences when not told. */
const DEFAULT_SPAN_MS = 7 * DAY_MS;
/** Problems a refused body lists; past this, how many more there were. */
const MAX_PROBLEM_LINES = 20;
const TAGS = ['maintenance'];

const maintenanceQuery = z.object({
  from: timeParam().optional().describe('Occurrences from this time (default 7 days ago)'),
  to: timeParam().optional().describe('Occurrences until this time (default 7 days ahead)'),
});
const nameParams = z.object({ name: identifier('maintenance window').describe("The window's name") });

export interface MaintenanceRoutesOptions {
  /** The calendar to read and change; without one it is made from `redis` and `config`. */
  calendar?: MaintenanceCalendar;
  redis?: Redis;
  config: LoadedConfig;
}

/** A window as the API shows it: as written in a config (`duration: "2h"`), with its source. */
function windowView(window: ListedMaintenanceWindow) {
  const { duration, ...rest } = window;
  return duration === undefined ? rest : { ...rest, duration: formatDuration(duration) };
}

function occurrenceView(occurrence: ActiveMaintenance) {
  return {
    ...occurrence,
    start: new Date(occurrence.start).toISOString(),
    end: new Date(occurrence.end).toISOString(),
  };
}

/**
 * Every problem of a refused window, one line each (`cron: not a valid cron expression …`),
 * the same words `pathwatch validate` uses under `maintenance[n]`.
 */
function bodyProblems(error: z.ZodError, body: unknown): string {
  const lines = schemaIssueLines(error.issues, body).map((issue) => {
    const path = issue.path.length > 100 ? `${issue.path.slice(0, 100)}…` : issue.path;
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const shown = lines.slice(0, MAX_PROBLEM_LINES);
  if (lines.length > shown.length) shown.push(`… and ${lines.length - shown.length} more problems`);
  return shown.join('\n');
}

/**
 * The POST body reaches the handler as sent: it checks it against maintenanceSchema itself,
 * so that a window with three mistakes is told all three, not the first (the shared
 * validator answers one line). The schema still documents the body.
 */
const bodyCheckedByHandler: FastifySchemaCompiler<unknown> = (route) =>
  route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : zodValidatorCompiler(route);

/**
 * Maintenance windows: list them with what runs now and what ran or will run (viewer), add
 * one (admin), remove one made through the API (admin).
 */
export const maintenanceRoutes: FastifyPluginAsync<MaintenanceRoutesOptions> = async (
  app,
  { calendar: given, redis, config },
) => {
  const calendar =
    given ??
    (redis
      ? new MaintenanceCalendar(redis, config.settings.redis.prefix, config.settings.maintenance)
      : undefined);
  const needCalendar = (): MaintenanceCalendar => {
    if (calendar) return calendar;
    throw new ApiRequestError(
      503,
      'MAINTENANCE_UNAVAILABLE',
      'this API process has no Redis connection for maintenance windows; use the one `pathwatch start` runs',
    );
  };
  const UNAVAILABLE = {
    503: 'Redis is unreachable, or this process has no Redis connection (MAINTENANCE_UNAVAILABLE)',
  };

  app.get<{ Querystring: z.output<typeof maintenanceQuery> }>(
    '/api/v1/maintenance',
    v1Route({
      role: 'viewer',
      tags: TAGS,
      summary: 'Maintenance windows, those running now, and their occurrences in a range',
      querystring: maintenanceQuery,
      answers: { 200: maintenanceListSchema },
      errors: UNAVAILABLE,
    }),
    async (request) => {
      const windows = needCalendar();
      const now = Date.now();
      const from = request.query.from ?? now - DEFAULT_SPAN_MS;
      const to = request.query.to ?? now + DEFAULT_SPAN_MS;
      if (from > to)
        throw new ApiRequestError(
          400,
          'BAD_REQUEST',
          `query parameter "from" must not be later than "to" (${new Date(to).toISOString()}), got "${new Date(from).toISOString()}"`,
        );
      const [listed, active, occurrences] = [
        await windows.list(),
        await windows.occurrences(now, now),
        await windows.occurrences(from, to),
      ];
      return {
        now: new Date(now).toISOString(),
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        windows: listed.map(windowView),
        // Overlapping [now, now]: started at or before now, ending after it.
        active: active.map(occurrenceView),
        occurrences: occurrences.map(occurrenceView),
      };
    },
  );

  app.post<{ Body: MaintenanceWindowInput }>(
    '/api/v1/maintenance',
    {
      ...v1Route({
        role: 'admin',
        tags: TAGS,
        summary: 'Add a maintenance window, one-off or recurring, as the config writes one (admin)',
        body: maintenanceSchema,
        answers: { 201: maintenanceWindowSchema },
        errors: {
          400: 'The window is not valid: one line per problem, each with its field and what was expected',
          409: 'A window of that name exists, in the config or made through the API (MAINTENANCE_NAME_TAKEN)',
          ...UNAVAILABLE,
        },
      }),
      validatorCompiler: bodyCheckedByHandler,
    },
    async (request, reply) => {
      const windows = needCalendar();
      // No body reaches here as null: "required", not "got null".
      const body = request.body ?? undefined;
      const parsed = maintenanceSchema.safeParse(body);
      if (!parsed.success)
        return reply.code(400).send(apiError('BAD_REQUEST', bodyProblems(parsed.error, body)));
      try {
        await windows.add(parsed.data);
      } catch (error) {
        if (error instanceof MaintenanceNameTakenError)
          return reply.code(409).send(apiError('MAINTENANCE_NAME_TAKEN', error.message));
        throw error;
      }
      return reply.code(201).send(windowView({ ...parsed.data, source: 'api' }));
    },
  );

  app.delete<{ Params: z.output<typeof nameParams> }>(
    '/api/v1/maintenance/:name',
    v1Route({
      role: 'admin',
      tags: TAGS,
      summary: 'Remove a maintenance window made through the API (admin)',
      params: nameParams,
      answers: { 200: maintenanceRemovedSchema },
      errors: {
        404: 'No window of that name (MAINTENANCE_NOT_FOUND)',
        409: 'The window is set in the config file: remove it there (MAINTENANCE_IN_CONFIG)',
        ...UNAVAILABLE,
      },
    }),
    async (request, reply) => {
      const windows = needCalendar();
      const { name } = request.params;
      let removed: boolean;
      try {
        removed = await windows.remove(name);
      } catch (error) {
        if (error instanceof MaintenanceConfiguredError)
          return reply.code(409).send(apiError('MAINTENANCE_IN_CONFIG', error.message));
        throw error;
      }
      if (!removed)
        return reply
          .code(404)
          .send(apiError('MAINTENANCE_NOT_FOUND', `no maintenance window "${name}" to remove`));
      return { removed: name };
    },
  );
};
