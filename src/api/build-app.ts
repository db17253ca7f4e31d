import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { MaintenanceCalendar } from '../alerts/maintenance-calendar.ts';
import type { ArtifactRetention } from '../artifacts/artifact-retention.ts';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { ApiRole } from '../auth/api-role.ts';
import { TokenTable } from '../auth/token-table.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import { consoleRoutes } from '../console/console-routes.ts';
import type { ResolvedJourney } from '../journeys/load-journeys.ts';
import { mapItemsOf } from '../map/read-map-graph.ts';
import { isRedisUnavailableError, redisFailureReason } from '../redis/redis-connection.ts';
import { computeReport } from '../reports/compute-report.ts';
import { type ReportPeriod, reportWindow } from '../reports/report-window.ts';
import { RollupReader } from '../reports/rollup-reader.ts';
import type { ResultsRecorder } from '../results/results-recorder.ts';
import type { RunResult } from '../results/run-result.ts';
import { sideOf } from '../results/verdict.ts';
import type { Logger } from '../util/logger.ts';
import { ApiRequestError, apiError, quoteInput } from './api-error.ts';
import { authorizeRequest } from './authorize-request.ts';
import { loadLinkKey } from './link-key.ts';
import { registerOpenApiCollector, registerOpenApiRoutes } from './openapi.ts';
import { NO_QUERY, parseQuery, textParam } from './query-params.ts';
import { registerRateLimits } from './rate-limits.ts';
import { alertsRoutes } from './routes/alerts-routes.ts';
import { artifactUploadRoutes } from './routes/artifact-upload-routes.ts';
import { bundleRoutes } from './routes/bundle-routes.ts';
import { capturesRoutes } from './routes/captures-routes.ts';
import { checksRoutes, type MonitoredItem } from './routes/checks-routes.ts';
import { healthRoutes } from './routes/health-routes.ts';
import { locationsRoutes } from './routes/locations-routes.ts';
import { maintenanceRoutes } from './routes/maintenance-routes.ts';
import { mapRoutes } from './routes/map-routes.ts';
import { metricsRoutes } from './routes/metrics-routes.ts';
import { reportsRoutes } from './routes/reports-routes.ts';
import { runPageRoutes } from './routes/run-page-routes.ts';
import { runsRoutes } from './routes/runs-routes.ts';
import { traceViewerRoutes } from './routes/trace-viewer-routes.ts';
import { responseSerializerCompiler, zodValidatorCompiler } from './schema-compilers.ts';
import { registerSecurityHeaders, traceViewerPolicy } from './security-headers.ts';

export interface BuildAppOptions {
  config: LoadedConfig;
  recorder: ResultsRecorder;
  journeys?: ResolvedJourney[];
  artifacts?: ArtifactStore;
  /** Queues a run at every location now (the scheduler's queues); "run now" answers 503 without. */
  runNow?: (item: MonitoredItem) => Promise<string[]>;
  /** Sends a capture request to the host that ran a run. */
  requestCapture?: (run: RunResult, unfiltered: boolean) => Promise<string>;
  /**
   * The API's own Redis connection (fail-fast, see createRedisConnection): /readyz reports
   * it, and /api/v1 answers 503 at once while it is down.
   */
  redis?: Redis;
  /** The key of signed links; default `api.linkKey`, else `<dataDir>/link-key` (made on first use). */
  linkKey?: Buffer;
  /** A pino logger; tests pass none and get a silent app. */
  logger?: Logger;
  /** Retention of `artifacts`, run by this process: /metrics serves its figures. */
  retention?: ArtifactRetention;
  /** Maintenance windows for /api/v1/maintenance; default: made from `redis` and the config's `maintenance`. */
  maintenance?: MaintenanceCalendar;
}

/** Checks and journeys, as one list: to an operator both are things that can break. */
export function monitoredItems(config: LoadedConfig, journeys: ResolvedJourney[]): MonitoredItem[] {
  return [...config.checks, ...journeys].map((item) => ({
    id: item.id,
    name: item.name,
    kind: item.kind,
    intervalMs: item.interval,
    timeoutMs: item.timeout,
    locations: item.locations,
    enabled: item.enabled,
    tags: item.tags ?? [],
  }));
}

/** A route and the least role that may call it (before any check a handler makes itself). */
export interface RouteRole {
  method: string;
  url: string;
  role: ApiRole | 'open';
}

declare module 'fastify' {
  interface FastifyInstance {
    routeRoles: RouteRole[];
  }
}

/** Longest URL the API reads; longer ones get a 414 before any route sees them. */
export const MAX_URL_LENGTH = 4096;
/** The trace viewer's one parameter: the trace to open (a URL on this origin). */
const TRACE_VIEWER_QUERY = z.object({ trace: textParam(MAX_URL_LENGTH).optional() });
/** Largest request body (Fastify's default), in bytes. */
export const MAX_BODY_BYTES = 1_048_576;
/** Largest request head Node reads (its default), in bytes; larger gets a 431. */
export const MAX_HEADER_BYTES = 16_384;

/** Stable codes for the statuses Fastify's own errors carry (their FST_* codes are not ours). */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  413: 'BODY_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  431: 'HEADERS_TOO_LARGE',
};

/** A message from Fastify or a route, cut so that no error repeats a long piece of input. */
function boundedMessage(message: string): string {
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}

function redisUnavailable(reason: string): ApiRequestError {
  return new ApiRequestError(
    503,
    'REDIS_UNAVAILABLE',
    `Redis is unreachable (${reason}); try again when GET /readyz answers 200`,
  );
}

/**
 * Errors Node's HTTP parser finds before Fastify has a request (headers too large, not
 * HTTP), answered on the socket in the API's error shape instead of Fastify's default.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', `request line and headers are larger than ${MAX_HEADER_BYTES} bytes`]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time']
        : [400, 'BAD_REQUEST', `the request is not valid HTTP/1.1 (${error.code ?? 'parse error'})`];
  const body = JSON.stringify(apiError(code, message));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * The API as a Fastify instance that never listens: tests drive it with `inject()`, and
 * workers/start-stack.ts (the `start` and `server` commands) calls `listen()`.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger | undefined,
    bodyLimit: MAX_BODY_BYTES,
    clientErrorHandler: answerClientError,
    // The router's own refusals (a path segment over maxParamLength, bad percent-encoding)
    // would otherwise answer in Fastify's shape and repeat the whole path.
    frameworkErrors: (error, _request, reply) => {
      const [status, code, message] =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? [414, 'URI_TOO_LONG', 'a path segment is longer than 100 characters']
          : error.code === 'FST_ERR_BAD_URL'
            ? [400, 'BAD_URL', 'the path is not a valid URL (bad percent-encoding)']
            : [500, 'INTERNAL', 'internal error'];
      return (reply as unknown as FastifyReply).code(status).send(apiError(code, message));
    },
  }) as unknown as FastifyInstance;
  const tokens = new TokenTable(options.config.settings.api.tokens);
  // Loaded on first use: an API that never meets a signed link never makes a key file.
  // One calendar for the routes that read maintenance windows (the history, the console, the API).
  const maintenance =
    options.maintenance ??
    (options.redis
      ? new MaintenanceCalendar(
          options.redis,
          options.config.settings.redis.prefix,
          options.config.settings.maintenance,
        )
      : undefined);
  let linkKeyLoad: Promise<Buffer> | undefined;
  const linkKey = () => {
    linkKeyLoad ??= options.linkKey ? Promise.resolve(options.linkKey) : loadLinkKey(options.config);
    return linkKeyLoad;
  };
  const authorize = authorizeRequest(tokens, linkKey);
  const openRoutes = new Set(options.config.settings.api.openRoutes);
  // Both before any route: their hooks come first on every answer, errors and 404s included.
  await registerSecurityHeaders(app);
  await registerRateLimits(app, options.config.settings.api.rateLimit, tokens);
  // Routes' zod schemas validate input and document the API (openapi.ts); the collector
  // learns routes as they are added, so it comes before them.
  app.setValidatorCompiler(zodValidatorCompiler);
  app.setSerializerCompiler(responseSerializerCompiler(app.log));
  await registerOpenApiCollector(app);

  app.setErrorHandler(
    (
      error: { statusCode?: number; code?: string; message: string; validation?: unknown },
      request,
      reply,
    ) => {
      const refused = isRedisUnavailableError(error)
        ? redisUnavailable(redisFailureReason(error as Error))
        : error;
      const status = refused.statusCode && refused.statusCode >= 400 ? refused.statusCode : 500;
      if (status >= 500 && status !== 503) {
        request.log.error({ err: error }, 'request failed');
        return reply.code(500).send(apiError('INTERNAL', `internal error (request ${request.id})`));
      }
      const code =
        refused instanceof ApiRequestError
          ? refused.code
          : refused.validation
            ? 'BAD_REQUEST'
            : (CODE_BY_STATUS[status] ?? (refused.code?.startsWith('FST_') ? 'BAD_REQUEST' : refused.code));
      const message =
        status === 413
          ? `request body is larger than ${MAX_BODY_BYTES} bytes`
          : boundedMessage(refused.message);
      return reply.code(status).send(apiError(code ?? 'BAD_REQUEST', message));
    },
  );
  // Every route with the role it needs, as declared: a test holds it against one table, so a
  // new route cannot slip in without a decision about who may call it.
  const routeRoles: RouteRole[] = [];
  app.decorate('routeRoles', routeRoles);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      // Outside /api/v1/ a route is open (health, metrics, the trace viewer's files, the API's
      // documentation) unless api.openRoutes closes it to viewers.
      const role = route.config?.role ?? (route.url.startsWith('/api/v1/') ? 'viewer' : 'open');
      routeRoles.push({ method, url: route.url, role });
    }
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(apiError('NOT_FOUND', `no route ${request.method} ${quoteInput(request.url.split('?')[0])}`)),
  );
  app.addHook('onRequest', async (request) => {
    if (request.url.length > MAX_URL_LENGTH) {
      throw new ApiRequestError(
        414,
        'URI_TOO_LONG',
        `the URL has ${request.url.length} characters, more than the ${MAX_URL_LENGTH} allowed`,
      );
    }
  });
  // Every route's query parameters are parsed here against the schema it declares in
  // `config.query` (none declared: none taken), so none is read unchecked; a route with
  // `schema.querystring` is parsed the same way by its validator (schema-compilers.ts).
  app.addHook('preValidation', async (request) => {
    if (request.is404 || request.routeOptions.schema?.querystring) return;
    request.query = parseQuery(request.routeOptions.config.query ?? NO_QUERY, request.query);
  });

  // /healthz, /readyz and /metrics are open by default (probes and scrapers rarely carry
  // tokens); `api.openRoutes` closes them to viewers and up.
  await app.register(async (health) => {
    if (!openRoutes.has('health')) health.addHook('onRequest', authorize);
    await health.register(healthRoutes, { redis: options.redis });
  });
  // The OpenAPI document and its page: open, they hold no data (openapi.ts says why).
  await app.register(registerOpenApiRoutes);
  const items = monitoredItems(options.config, options.journeys ?? []);
  await app.register(async (viewer) => {
    viewer.addHook('onRoute', (route) => {
      traceViewerPolicy(route);
      // The viewer reads `?trace=<url of a trace.zip>` in the browser (run-links.ts makes
      // such links); its files ignore it, but the query hook refuses what a route does not declare.
      route.config = { ...route.config, query: TRACE_VIEWER_QUERY };
    });
    await viewer.register(traceViewerRoutes);
  });
  await app.register(async (metrics) => {
    if (!openRoutes.has('metrics')) metrics.addHook('onRequest', authorize);
    await metrics.register(metricsRoutes, {
      config: options.config,
      items,
      recorder: options.recorder,
      retention: options.retention,
    });
  });

  await app.register(async (api) => {
    api.addHook('onRequest', authorize);
    // While the API's connection is down every route here would fail anyway: answer at
    // once, before a route queues work on a connection that waits for Redis (run now).
    const redis = options.redis;
    if (redis) {
      api.addHook('onRequest', async () => {
        if (redis.status !== 'ready') throw redisUnavailable(`the connection is ${redis.status}`);
      });
    }
    await api.register(checksRoutes, {
      items,
      recorder: options.recorder,
      runNow: options.runNow,
      maintenance,
    });
    await api.register(locationsRoutes, { config: options.config, recorder: options.recorder });
    await api.register(mapRoutes, {
      config: options.config,
      journeys: options.journeys ?? [],
      recorder: options.recorder,
    });
    await api.register(reportsRoutes, {
      items,
      recorder: options.recorder,
      redis,
      redisPrefix: options.config.settings.redis.prefix,
      rollupDays: options.config.settings.rollupDays,
      runsPerSeries: options.config.settings.runsPerSeries,
      target: options.config.settings.reports.target,
      maintenance,
    });
    await api.register(alertsRoutes, { statuses: options.recorder.alerts });
    await api.register(maintenanceRoutes, {
      calendar: maintenance,
      redis: options.redis,
      config: options.config,
    });
    await api.register(runsRoutes, {
      recorder: options.recorder,
      artifacts: options.artifacts,
      requestCapture: options.requestCapture,
      // A worker's upload token alone leaves the API open to readers.
      apiHasTokens: tokens.readers > 0,
      linkKey,
    });
    await api.register(capturesRoutes, {
      items,
      locations: options.config.locations,
      recorder: options.recorder,
      artifacts: options.artifacts,
      runsPerSeries: options.config.settings.runsPerSeries,
    });
    await api.register(artifactUploadRoutes, {
      artifacts: options.artifacts,
      maxBytes: options.config.settings.artifacts.maxUploadSize,
    });
    await api.register(bundleRoutes, {
      items,
      recorder: options.recorder,
      artifacts: options.artifacts,
      runsPerSeries: options.config.settings.runsPerSeries,
      locationDescriptions: Object.fromEntries(
        Object.entries(options.config.settings.locations).map(([id, location]) => [id, location.description]),
      ),
      linkKey,
    });
  });
  // The operator console (HTML pages); its own scope: sign-in by form, refusals are pages.
  await app.register(consoleRoutes, {
    items,
    mapItems: mapItemsOf(options.config, options.journeys ?? []),
    config: options.config,
    locations: options.config.locations,
    recorder: options.recorder,
    tokens,
    linkKey,
    // The Captures page: the same store, depth and capture request as the captures and runs API.
    artifacts: options.artifacts,
    runsPerSeries: options.config.settings.runsPerSeries,
    requestCapture: options.requestCapture,
    report: options.redis
      ? (() => {
          const reader = new RollupReader(
            options.redis,
            options.config.settings.redis.prefix,
            options.config.settings.rollupDays,
          );
          return (period: ReportPeriod) =>
            computeReport(
              {
                reader,
                runs: options.recorder.runs,
                runsPerSeries: options.config.settings.runsPerSeries,
                keepDays: options.config.settings.rollupDays,
                maintenance,
              },
              {
                items,
                window: reportWindow(period, Date.now()),
                target: options.config.settings.reports.target,
              },
            );
        })()
      : undefined,
    // A check page's percentiles over its range, summed from the rollups as a report's are.
    rollups: options.redis
      ? new RollupReader(
          options.redis,
          options.config.settings.redis.prefix,
          options.config.settings.rollupDays,
        )
      : undefined,
    activeMaintenance: maintenance
      ? async (now) => (await maintenance.occurrences(now, now)).filter((occurrence) => occurrence.end > now)
      : undefined,
  });
  // The run page for people (HTML); its own scope, so its refusals are pages, not JSON.
  await app.register(runPageRoutes, {
    items,
    recorder: options.recorder,
    artifacts: options.artifacts,
    runsPerSeries: options.config.settings.runsPerSeries,
    sides: Object.fromEntries(
      options.config.locations.map((id) => [id, sideOf(id, options.config.settings.locations[id]?.side)]),
    ),
    linkKey,
    linkTtlMs: options.config.settings.api.linkTtl,
    authorize,
  });
  return app;
}
