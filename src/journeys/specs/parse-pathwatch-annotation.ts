import { z } from 'zod';
import { duration, identifier } from '../../config/zod-helpers.ts';
import { MAX_JOURNEY_TIMEOUT_MS } from '../load-journey.ts';

/** The annotation type a test sets pathwatch settings with. */
export const PATHWATCH_ANNOTATION = 'pathwatch';

const fields = {
  id: identifier('journey'),
  interval: duration({ min: 10_000, max: 86_400_000 }),
  locations: z
    .string()
    .transform((text) => text.split(','))
    .pipe(z.array(identifier('location')).min(1)),
  timeout: duration({ min: 5000, max: MAX_JOURNEY_TIMEOUT_MS }),
};

export interface PathwatchAnnotation {
  id?: string;
  interval?: number;
  locations?: string[];
  timeout?: number;
}

/**
 * A test's `{ type: 'pathwatch', description: 'id=checkout interval=5m locations=inside,outside timeout=90s' }`:
 * space-separated `key=value` pairs, each key at most once. Throws one line naming the
 * first bad pair and what was expected.
 */
export function parsePathwatchAnnotation(description: string | undefined): PathwatchAnnotation {
  const parsed: Record<string, unknown> = {};
  for (const pair of (description ?? '').trim().split(/\s+/).filter(Boolean)) {
    const at = pair.indexOf('=');
    const key = at > 0 ? pair.slice(0, at) : pair;
    if (at <= 0 || !(key in fields))
      throw new Error(
        `annotation "${PATHWATCH_ANNOTATION}": "${pair}" is not key=value with key id, interval, locations or timeout`,
      );
    if (key in parsed) throw new Error(`annotation "${PATHWATCH_ANNOTATION}": "${key}" is given twice`);
    const result = fields[key as keyof typeof fields].safeParse(pair.slice(at + 1));
    if (!result.success)
      throw new Error(
        `annotation "${PATHWATCH_ANNOTATION}": ${key}: ${result.error.issues[0]?.message ?? 'invalid'}`,
      );
    parsed[key] = result.data;
  }
  return parsed as PathwatchAnnotation;
}
