import type { FastifyPluginAsync, FastifySchema } from 'fastify';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { REDIS_REQUEST_DEADLINE_MS } from '../../redis/redis-connection.ts';
import { apiError } from '../api-error.ts';
import { errorResponses } from '../schemas/api-error-schema.ts';

export interface HealthRoutesOptions {
  /** The API's own Redis connection; without one, /readyz has nothing to wait for. */
  redis?: Redis;
}

/** Why Redis cannot serve a request now, or undefined when it answers a PING in time. */
export async function redisProblem(redis: Redis): Promise<string | undefined> {
  if (redis.status !== 'ready') return `the connection is ${redis.status}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer to PING within ${REDIS_REQUEST_DEADLINE_MS} ms`)),
          REDIS_REQUEST_DEADLINE_MS,
        );
      }),
    ]);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * /healthz is liveness (the process answers: do not restart it); /readyz is readiness
 * (it can serve the API: Redis answers), for a load balancer or an orchestrator.
 */
export const healthRoutes: FastifyPluginAsync<HealthRoutesOptions> = async (app, { redis }) => {
  // 401/403 only where api.openRoutes leaves out "health".
  const closable = { 400: true, 401: true, 403: true } as const;
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process answers',
        security: [],
        response: { 200: z.strictObject({ status: z.literal('ok') }), ...errorResponses(closable) },
      },
    },
    async () => ({ status: 'ok' }),
  );
  const readySchema: FastifySchema = {
    tags: ['health'],
    summary: 'Readiness: Redis answers a PING in time (or the API uses none)',
    security: [],
    response: {
      200: z.strictObject({ status: z.literal('ready'), redis: z.enum(['up', 'not used']) }),
      ...errorResponses({ ...closable, 503: 'Not ready: Redis is unreachable (REDIS_UNAVAILABLE)' }),
    },
  };
  app.get('/readyz', { schema: readySchema }, async (_request, reply) => {
    const problem = redis ? await redisProblem(redis) : undefined;
    if (problem) {
      return reply
        .code(503)
        .send(apiError('REDIS_UNAVAILABLE', `not ready: Redis is unreachable (${problem})`));
    }
    return { status: 'ready', redis: redis ? 'up' : 'not used' };
  });
};
