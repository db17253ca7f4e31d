import { z } from 'zod';

/** The one error shape every API route answers with (api-error.ts), as documented. */
export const apiErrorSchema = z.strictObject({
  error: z.strictObject({
    code: z.string().describe('A stable code, e.g. BAD_REQUEST, RUN_NOT_FOUND, LINK_EXPIRED'),
    message: z.string().describe('One sentence a person can act on: what was wrong, what was expected'),
  }),
});

/** What each error status means wherever it is answered; a route adds its own where it differs. */
const MEANING: Record<number, string> = {
  400: 'A parameter or the body is not what the route takes; the message names it and what was expected',
  401: 'No known bearer token (when api.tokens is set); Www-Authenticate: Bearer',
  403: "The token's role is below the route's",
  404: 'Not found',
  409: 'Conflict',
  410: 'Gone',
  416: 'The Range holds no byte of the file; Content-Range: bytes */size',
  429: 'Over api.rateLimit; Retry-After in seconds',
  503: 'Redis is unreachable, or this process lacks what the route needs',
};

/** Response schemas for error statuses: the shared shape, described per status (or as given). */
export function errorResponses(statuses: Record<number, string | true>): Record<number, z.ZodType> {
  return Object.fromEntries(
    Object.entries(statuses).map(([status, meaning]) => [
      status,
      apiErrorSchema.describe(meaning === true ? (MEANING[Number(status)] ?? 'Error') : meaning),
    ]),
  );
}

/** Every /api/v1 route may answer these: bad input, no token, low role, rate limit, Redis down. */
export const API_V1_ERRORS = { 400: true, 401: true, 403: true, 429: true, 503: true } as const;

/** A file sent as it is stored (a download): the body is bytes, documented per content type. */
export function fileResponse(description: string, contentType = 'application/octet-stream') {
  return {
    description,
    content: { [contentType]: { schema: z.string().meta({ format: 'binary' }) } },
  };
}
