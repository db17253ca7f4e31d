import { z } from 'zod';
import { duration, strictObject } from './zod-helpers.ts';

/**
 * How many requests one client may make to the API. A client is a configured token (by its
 * name) or, without one, an address: a guessed token counts against the guesser's address,
 * so trying tokens is slowed down as much as anything else.
 */
export const rateLimitSchema = strictObject({
  enabled: z
    .boolean()
    .default(true)
    .describe(
      'false answers every request however many come (a private API behind its own limiter). Default true.',
    ),
  max: z
    .number()
    .int()
    .min(1, { error: (issue) => `must be at least 1 request, got ${JSON.stringify(issue.input)}` })
    .max(1_000_000, {
      error: (issue) => `must be at most 1000000 requests, got ${JSON.stringify(issue.input)}`,
    })
    .default(600)
    .describe(
      'Requests one client (a token, or an address without one) may make per `window`; more get 429 with Retry-After. `/metrics`, `/healthz` and `/readyz` are never limited. Default 600.',
    ),
  window: duration({ min: 1000, max: 86_400_000 })
    .default(60_000)
    .describe('The window `max` counts over (1s to 1d). Default 1m.'),
});
