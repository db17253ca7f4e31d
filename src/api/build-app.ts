import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import type { RunResult } from '../checks/run-result.ts';
import type { LoadedConfig } from '../config/load-config.ts';
import type { ResolvedJourney } from '../journeys/load-journeys.ts';
import type { ResultsRecorder } from '../results/results-recorder.ts';
import type { Logger } from '../util/logger.ts';
import { apiError } from './api-error.ts';
import { checksRoutes, type MonitoredItem } from './routes/checks-routes.ts';
import { locationsRoutes } from './routes/locations-routes.ts';
import { metricsRoutes } from './routes/metrics-routes.ts';
import { runsRoutes } from './routes/runs-routes.ts';

export interface BuildAppOptions {
  config: LoadedConfig;
  recorder: ResultsRecorder;
  journeys?: ResolvedJourney[];
  artifacts?: ArtifactStore;
  /** Queues a run at every location now (the scheduler's queues); "run now" answers 503 without. */
  runNow?: (item: MonitoredItem) => Promise<string[]>;
  /** Sends a capture request to the host that ran a run. */
  requestCapture?: (run: RunResult, unfiltered: boolean) => Promise<string>;
  /** A pino logger; tests pass none and get a silent app. */
  logger?: Logger;
}

function tokenMatches(given: string, accepted: string[]): boolean {
  const givenBytes = Buffer.from(given);
  return accepted.some((token) => {
    const tokenBytes = Buffer.from(token);
    return tokenBytes.length === givenBytes.length && timingSafeEqual(tokenBytes, givenBytes);
  });
}

/** Checks and journeys, as one list: to an operator both are things that can break. */
export function monitoredItems(config: LoadedConfig, journeys: ResolvedJourney[]): MonitoredItem[] {
  return [
    ...config.checks.map((check) => ({
      id: check.id,
      name: check.name,
      kind: check.kind,
      intervalMs: check.interval,
      timeoutMs: check.timeout,
      locations: check.locations,
      enabled: check.enabled,
    })),
    ...journeys.map((journey) => ({
      id: journey.id,
      name: journey.name,
      kind: 'journey',
      intervalMs: journey.interval,
      timeoutMs: journey.timeout,
      locations: journey.locations,
      enabled: true,
    })),
  ];
}

/**
 * The API as a Fastify instance that never listens: tests drive it with `inject()`,
 * server.ts adds `listen()`.
 */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger | undefined,
  }) as unknown as FastifyInstance;
  const tokens = options.config.settings.api.tokens.map((ref) => options.config.secrets.interpolate(ref));

  app.setErrorHandler(
    (
      error: { statusCode?: number; code?: string; message: string; validation?: unknown },
      request,
      reply,
    ) => {
      const status = error.statusCode ?? 500;
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      return reply
        .code(status)
        .send(
          apiError(
            error.validation ? 'BAD_REQUEST' : (error.code ?? 'INTERNAL'),
            status >= 500 ? 'internal error' : error.message,
          ),
        );
    },
  );
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(apiError('NOT_FOUND', `no route ${request.method} ${request.url}`)),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  const items = monitoredItems(options.config, options.journeys ?? []);
  await app.register(metricsRoutes, { config: options.config, items, recorder: options.recorder });

  await app.register(async (api) => {
    if (tokens.length > 0) {
      api.addHook('onRequest', async (request, reply) => {
        const header = request.headers.authorization ?? '';
        const token = header.startsWith('Bearer ') ? header.slice(7) : '';
        if (!token || !tokenMatches(token, tokens)) {
          return reply
            .code(401)
            .send(
              apiError('UNAUTHORIZED', 'send "Authorization: Bearer <token>" with a token from api.tokens'),
            );
        }
      });
    }
    await api.register(checksRoutes, { items, recorder: options.recorder, runNow: options.runNow });
    await api.register(locationsRoutes, { config: options.config, recorder: options.recorder });
    await api.register(runsRoutes, {
      recorder: options.recorder,
      artifacts: options.artifacts,
      requestCapture: options.requestCapture,
    });
  });
  return app;
}
