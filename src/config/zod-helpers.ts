import { z } from 'zod';
import { parseBytes } from '../util/bytes.ts';
import { closestMatch } from '../util/closest-match.ts';
import { formatDuration, parseDuration } from '../util/duration.ts';

/**
 * The error for a value of the wrong type, or a missing one: "required, expected X" reads
 * better than zod's "Invalid input: expected string, received undefined".
 */
export function expected(what: string) {
  return (issue: { input?: unknown; code?: string }) =>
    issue.input === undefined
      ? `required, expected ${what}`
      : `expected ${what}, got ${JSON.stringify(issue.input)}`;
}

z.config({
  customError: (issue) => {
    if (issue.code !== 'invalid_type') return undefined;
    return issue.input === undefined
      ? `required, expected ${issue.expected}`
      : `expected ${issue.expected}, got ${JSON.stringify(issue.input)}`;
  },
});

/**
 * A strict object whose unknown-key errors name the key and suggest the closest known one,
 * because a typo such as `intervall` silently ignored is a check that never runs as meant.
 */
export function strictObject<Shape extends z.ZodRawShape>(shape: Shape) {
  const knownKeys = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      return issue.keys
        .map((key) => {
          const suggestion = closestMatch(key, knownKeys);
          return suggestion ? `unknown key "${key}", did you mean "${suggestion}"?` : `unknown key "${key}"`;
        })
        .join('; ');
    },
  });
}

export interface DurationLimits {
  min?: number;
  max?: number;
}

/** A duration string (`30s`, `5m`) parsed to milliseconds, with limits named in the error. */
export function duration(limits: DurationLimits = {}) {
  return z.string({ error: expected('a duration such as "30s" or "5m"') }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a duration such as "500ms", "30s", "5m" or "1h", got "${text}"`,
      });
      return z.NEVER;
    }
    if (limits.min !== undefined && ms < limits.min) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at least ${formatDuration(limits.min)}, got "${text}"`,
      });
      return z.NEVER;
    }
    if (limits.max !== undefined && ms > limits.max) {
      ctx.addIssue({
        code: 'custom',
        message: `must be at most ${formatDuration(limits.max)}, got "${text}"`,
      });
      return z.NEVER;
    }
    return ms;
  });
}

/** A size string (`64KiB`, `1GiB`) parsed to bytes. */
export function byteSize() {
  return z.string({ error: expected('a size such as "100MiB"') }).transform((text, ctx) => {
    const bytes = parseBytes(text);
    if (bytes === undefined || bytes <= 0) {
      ctx.addIssue({
        code: 'custom',
        message: `expected a size such as "64KiB", "100MiB" or "1GiB", got "${text}"`,
      });
      return z.NEVER;
    }
    return bytes;
  });
}

/** An http(s) URL; the message says what was wrong instead of zod's generic "Invalid URL". */
export function httpUrl() {
  return z.string({ error: expected('a URL such as "https://shop.example/health"') }).refine(
    (text) => {
      try {
        const url = new URL(text);
        return url.protocol === 'http:' || url.protocol === 'https:';
      } catch {
        return false;
      }
    },
    { error: (issue) => `expected an http:// or https:// URL, got ${JSON.stringify(issue.input)}` },
  );
}

/** Identifier used in keys, queue names and URLs: no spaces, no colons. */
export function identifier(what: string) {
  return z.string({ error: expected(`a ${what} id`) }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, {
    error: (issue) =>
      `${what} id must be letters, digits, "-", "_" or "." (at most 100), got ${JSON.stringify(issue.input)}`,
  });
}

/**
 * A regular expression given as its source text (`^/pricing`), checked at load time so a
 * typo is a config error with the reason, not a crash in every run.
 */
export function regexSource() {
  return z
    .string({ error: expected('a regular expression such as "^/docs/"') })
    .superRefine((source, ctx) => {
      try {
        new RegExp(source);
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `not a valid regular expression: ${JSON.stringify(source)} (${(error as Error).message})`,
        });
      }
    });
}
