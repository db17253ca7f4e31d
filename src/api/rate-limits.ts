import { isIPv6 } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bearerTokenOf } from '../auth/bearer-token.ts';
import type { TokenTable } from '../auth/token-table.ts';
import type { ParsedConfig } from '../config/config-schema.ts';
import { formatDuration } from '../util/duration.ts';
import { ApiRequestError } from './api-error.ts';

/** Scrapers and probes poll these on their own schedule; a limit would only blind them. */
export const UNLIMITED_ROUTES: ReadonlySet<string> = new Set(['/metrics', '/healthz', '/readyz']);

/**
 * The client a request counts against: a configured token by its name, else its address.
 * An IPv6 address counts by its /64, as one host is usually given a whole /64 and could
 * otherwise take a fresh address for every request.
 */
export function rateLimitClient(request: FastifyRequest, tokens: TokenTable): string {
  const token = tokens.size > 0 ? bearerTokenOf(request.headers.authorization) : undefined;
  const entry = token === undefined ? undefined : tokens.identify(token);
  if (entry) return `token "${entry.name}"`;
  return `address ${addressGroup(request.ip)}`;
}

function addressGroup(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups.slice(0, 4).join(':')}::/64`;
}

/**
 * `api.rateLimit` on every route but UNLIMITED_ROUTES, as the app's first onRequest hook:
 * before authorization, so a client guessing tokens is counted (and refused) like any
 * other, and on unknown paths too. Over the limit: 429 in the API's error shape, with
 * Retry-After in seconds.
 */
export async function registerRateLimits(
  app: FastifyInstance,
  settings: ParsedConfig['api']['rateLimit'],
  tokens: TokenTable,
): Promise<void> {
  if (!settings.enabled) return;
  await app.register(rateLimit, { global: false });
  app.addHook(
    'onRequest',
    app.rateLimit({
      max: settings.max,
      timeWindow: settings.window,
      keyGenerator: (request) => rateLimitClient(request, tokens),
      allowList: (request) => UNLIMITED_ROUTES.has(request.routeOptions.url ?? ''),
      errorResponseBuilder: (_request, context) =>
        new ApiRequestError(
          context.statusCode,
          'RATE_LIMITED',
          `more than ${settings.max} requests in ${formatDuration(settings.window)} from this client; try again in ${Math.ceil(context.ttl / 1000)} s (api.rateLimit)`,
        ),
    }),
  );
}
