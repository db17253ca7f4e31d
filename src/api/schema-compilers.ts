import type { FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import { z } from 'zod';
import { ApiRequestError, quoteInput } from './api-error.ts';
import { parseQuery, type QuerySchema } from './query-params.ts';

/**
 * Routes declare params, querystring, body and responses as zod (`schema`), and these
 * compilers make the same zod objects do the work, so the OpenAPI document (openapi.ts)
 * cannot drift from what is checked. Every refusal is the API's one-line 400 naming the
 * input and what it expected; queries go through parseQuery, as routes that still declare
 * `config.query` do.
 */

const PART_NAMES: Record<string, string> = {
  params: 'path parameter',
  body: 'body field',
  headers: 'header',
  querystring: 'query parameter',
};

function zodOf(schema: unknown, where: string): z.ZodType {
  if (schema instanceof z.ZodType) return schema;
  throw new Error(`${where}: expected a zod schema (fastify-type-provider-zod style), got ${typeof schema}`);
}

function valueAt(data: unknown, path: PropertyKey[]): unknown {
  return path.reduce<unknown>(
    (value, key) =>
      value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    data,
  );
}

/** The first issue of a refused input as one line: `path parameter "runId" must be …, got "…"`. */
function refusal(part: string, error: z.ZodError, data: unknown): ApiRequestError {
  const what = PART_NAMES[part] ?? part;
  const issue = error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    return new ApiRequestError(400, 'BAD_REQUEST', `unknown ${what} ${quoteInput(issue.keys[0])}`);
  }
  if (issue.path.length === 0) {
    return new ApiRequestError(400, 'BAD_REQUEST', `${part} ${issue.message}, got ${quoteInput(data)}`);
  }
  const name = issue.path.map(String).join('.');
  return new ApiRequestError(
    400,
    'BAD_REQUEST',
    `${what} "${name}" ${issue.message}, got ${quoteInput(valueAt(data, issue.path))}`,
  );
}

export const zodValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart, method, url }) => {
  const part = httpPart ?? 'body';
  const zod = zodOf(schema, `${method} ${url} schema.${part}`);
  if (part === 'querystring') {
    return (data: unknown) => {
      try {
        return { value: parseQuery(zod as QuerySchema, data) };
      } catch (error) {
        if (error instanceof ApiRequestError) return { error };
        throw error;
      }
    };
  }
  return (data: unknown) => {
    const parsed = zod.safeParse(data);
    return parsed.success ? { value: parsed.data } : { error: refusal(part, parsed.error, data) };
  };
};

/**
 * Sends what the handler answered as JSON, exactly (as Fastify does without a schema): a
 * response schema documents an answer and never drops a field from it nor fails it. An
 * answer its schema does not describe is logged once per route and status, and caught by
 * test/integration/api-openapi.test.ts against the document.
 */
export function responseSerializerCompiler(log: {
  warn: (context: object, message: string) => void;
}): FastifySerializerCompiler<unknown> {
  return ({ schema, method, url, httpStatus }) => {
    const zod = zodOf(
      schema instanceof z.ZodType ? schema : (schema as { schema?: unknown }).schema,
      `${method} ${url} schema.response.${httpStatus}`,
    );
    let warned = false;
    return (data: unknown) => {
      if (!warned) {
        const checked = zod.safeParse(data);
        if (!checked.success) {
          warned = true;
          const issue = checked.error.issues[0];
          log.warn(
            { route: `${method} ${url}`, status: httpStatus, path: issue.path.map(String).join('.') },
            `answer does not match its documented schema: ${issue.message}`,
          );
        }
      }
      return JSON.stringify(data);
    };
  };
}
