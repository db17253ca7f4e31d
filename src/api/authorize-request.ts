import type { FastifyReply, FastifyRequest } from 'fastify';
import { type ApiRole, roleAllows, UPLOAD_ROLE } from '../auth/api-role.ts';
import { bearerTokenOf } from '../auth/bearer-token.ts';
import type { ApiTokenEntry, TokenTable } from '../auth/token-table.ts';
import { sessionTokenEntry } from '../console/console-session.ts';
import { apiError } from './api-error.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The least role that may call the route. Unset: `viewer`. A route whose need depends on
     * what is asked (an artifact: a screenshot or a trace) checks again with requireRole().
     */
    role?: ApiRole;
    /**
     * The route also opens for a signed link (`?exp=…&sig=…`, see signed-link.ts) instead of a
     * token; it must then verify the link itself before answering.
     */
    signedLink?: boolean;
  }
  interface FastifyRequest {
    /** The token the request came with, once authorized; undefined on an open API. */
    apiToken?: ApiTokenEntry;
  }
}

/**
 * An onRequest hook: 401 without a known bearer token, 403 when its role is below the
 * route's. Does nothing while no token that may read is configured (an open API, bound to
 * localhost), except on upload routes: writing evidence always takes a worker token.
 *
 * A console session cookie (signed in with a token, `sessionKey` verifies it) stands in for
 * its token on GET and HEAD: the console's links (a run page, a report's CSV, a download)
 * open in the browser that signed in. Never on a change: a cookie rides along on requests
 * other sites make, a bearer header does not.
 */
export function authorizeRequest(table: TokenTable, sessionKey?: () => Promise<Buffer>) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.is404) return;
    if (table.readers === 0 && request.routeOptions.config.role !== UPLOAD_ROLE) return;
    // A signed link stands in for a token on the routes that take one; the route checks it.
    if (
      request.routeOptions.config.signedLink &&
      (request.query as { sig?: unknown } | undefined)?.sig !== undefined
    )
      return;
    const token = bearerTokenOf(request.headers.authorization);
    let entry = token === undefined ? undefined : table.identify(token);
    if (
      token === undefined &&
      sessionKey &&
      request.headers.cookie &&
      (request.method === 'GET' || request.method === 'HEAD') &&
      request.routeOptions.config.role !== UPLOAD_ROLE
    ) {
      entry = sessionTokenEntry(await sessionKey(), table, request.headers.cookie)?.entry;
    }
    if (!entry) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="pathwatch"')
        .send(
          apiError(
            'UNAUTHORIZED',
            token === undefined
              ? 'send "Authorization: Bearer <token>" with a token whose hash is in api.tokens'
              : 'this bearer token is not in api.tokens (by its hash); make one with `pathwatch token create`',
          ),
        );
    }
    request.apiToken = entry;
    return requireRole(request, reply, request.routeOptions.config.role ?? 'viewer');
  };
}

/**
 * 403 unless the request's token has `need` (no-op on an open API). Returns the reply when it
 * refused, so a handler can `if (requireRole(…)) return;` for a need it learns late.
 */
export function requireRole(
  request: FastifyRequest,
  reply: FastifyReply,
  need: ApiRole,
): FastifyReply | undefined {
  const have = request.apiToken?.role;
  if (have === undefined || roleAllows(have, need)) return undefined;
  return reply
    .code(403)
    .send(
      apiError(
        'FORBIDDEN',
        `this needs the ${need} role; the token "${request.apiToken!.name}" has the ${have} role`,
      ),
    );
}
