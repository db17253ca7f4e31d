import { z } from 'zod';
import { ApiRequestError, quoteInput } from './api-error.ts';

/**
 * Query parameters a route takes, as a zod object of strings: a route declares its own in
 * `schema.querystring` (validated by schema-compilers.ts, and documented) or `config.query`
 * (parsed by one hook in buildApp); either way parseQuery reads them, so no route reads an
 * unchecked parameter and every refusal reads the same way.
 */
export type QuerySchema = z.ZodObject<Record<string, z.ZodType<unknown, string | undefined>>>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route's query parameters; a route without takes none. */
    query?: QuerySchema;
  }
}

/** Parameters of routes that take none: any parameter is refused, named. */
export const NO_QUERY: QuerySchema = z.object({});

/** An integer parameter within [min, max]; "Infinity", "1e3", "-0", "7.5" are refused. */
export function integerParam(min: number, max: number) {
  const message = `must be an integer from ${min} to ${max}`;
  return z
    .string()
    .refine(
      (raw) => {
        if (!/^-?[0-9]{1,15}$/.test(raw)) return false;
        const value = Number(raw);
        return value >= min && value <= max;
      },
      { error: message },
    )
    .transform(Number);
}

/** A free-text parameter of at most `maxLength` characters. */
export function textParam(maxLength: number) {
  return z
    .string()
    .min(1, { error: 'must not be empty' })
    .max(maxLength, {
      error: `must be at most ${maxLength} characters`,
    });
}

/**
 * Parses a request's query against a route's schema, or throws a 400 naming the
 * parameter, what it accepts and the value given (cut short).
 */
export function parseQuery<Schema extends QuerySchema>(schema: Schema, query: unknown): z.output<Schema> {
  const given = (query ?? {}) as Record<string, unknown>;
  const known = Object.keys(schema.shape);
  for (const [name, value] of Object.entries(given)) {
    if (!known.includes(name)) {
      throw new ApiRequestError(
        400,
        'BAD_REQUEST',
        `unknown query parameter ${quoteInput(name)}; ${known.length > 0 ? `this route takes ${known.join(', ')}` : 'this route takes none'}`,
      );
    }
    if (typeof value !== 'string') {
      throw new ApiRequestError(400, 'BAD_REQUEST', `query parameter "${name}" must be given once`);
    }
  }
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = String(issue.path[0] ?? '');
  throw new ApiRequestError(
    400,
    'BAD_REQUEST',
    `query parameter "${name}" ${issue.message}, got ${quoteInput(given[name])}`,
  );
}
