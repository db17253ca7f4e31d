import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { LoadedConfig } from '../config/load-config.ts';
import type { ResultStore } from '../results/result-store.ts';
import type { Logger } from '../util/logger.ts';
import { apiError } from './api-error.ts';
import { checksRoutes } from './routes/checks-routes.ts';
import { runsRoutes } from './routes/runs-routes.ts';

export interface BuildAppOptions {
  config: LoadedConfig;
  store: ResultStore;
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
    await api.register(checksRoutes, { config: options.config, store: options.store });
    await api.register(runsRoutes, { store: options.store });
  });
  return app;
}
