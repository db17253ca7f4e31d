import { z } from 'zod';
import { ApiRequestError, quoteInput } from '../api-error.ts';

/**
 * One path segment of an artifact key: what run ids, artifact names and collection ids are
 * made of. A leading letter or digit and no `..` anywhere, so no value (decoded `%2e%2e`,
 * `%2f` included) can reach outside its folder in a store.
 */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const SEGMENT_EXPECTED =
  'must be letters, digits, "-", "_" or "." (at most 100, starting with a letter or digit, without "..")';

const isSegment = (value: string) => SEGMENT.test(value) && !value.includes('..');

/**
 * A path parameter that is one such segment, for a route's `schema.params`: the validator
 * (schema-compilers.ts) refuses any other with a 400 naming it, before the handler reads
 * anything, so a malformed id says so instead of looking like a missing one.
 */
export function segmentParam() {
  return z
    .string()
    .meta({ pattern: SEGMENT.source, description: SEGMENT_EXPECTED.replace(/^must be/, 'Made of') })
    .refine(isSegment, { error: SEGMENT_EXPECTED });
}

/** `value` of path parameter `name`, or the same 400, for a route without a params schema. */
export function pathSegment(name: string, value: string): string {
  if (isSegment(value)) return value;
  throw new ApiRequestError(
    400,
    'BAD_REQUEST',
    `path parameter "${name}" ${SEGMENT_EXPECTED}, got ${quoteInput(value)}`,
  );
}
