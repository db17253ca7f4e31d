import { resolve } from 'node:path';
import { z } from 'zod';
import { parseBytes } from '../util/bytes.ts';
import { closestMatch } from '../util/closest-match.ts';
import { formatDuration, parseDuration } from '../util/duration.ts';
import { currentConfigDir } from './config-dir-scope.ts';
import { PEM_CONTENTS, type PemContents, pemFileProblem } from './pem-file-problem.ts';

/** Longest value echoed back in a problem line: a 1 MB string is named, not repeated. */
const MAX_SHOWN_VALUE = 80;

/** A value as a problem line shows it: JSON, cut short, and never a throw (BigInt, cycles). */
export function showValue(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  text ??= typeof value === 'bigint' ? `${value}n` : typeof value;
  return text.length > MAX_SHOWN_VALUE ? `${text.slice(0, MAX_SHOWN_VALUE)}…` : text;
}

/**
 * The error for a value of the wrong type, or a missing one: "required, expected X" reads
 * better than zod's "Invalid input: expected string, received undefined".
 */
export function expected(what: string) {
  return (issue: { input?: unknown; code?: string }) =>
    issue.input === undefined
      ? `required, expected ${what}`
      : `expected ${what}, got ${showValue(issue.input)}`;
}

z.config({
  customError: (issue) => {
    if (issue.code !== 'invalid_type') return undefined;
    return issue.input === undefined
      ? `required, expected ${issue.expected}`
      : `expected ${issue.expected}, got ${showValue(issue.input)}`;
  },
});

/**
 * A strict object whose unknown-key errors name the key and suggest the closest known one,
 * because a typo such as `intervall` silently ignored is a check that never runs as meant.
 */
export function strictObject<Shape extends z.ZodRawShape>(
  shape: Shape,
  options: {
    /** What the object is, for "required, expected …" when it is missing or not a map. */
    what?: string;
  } = {},
) {
  const knownKeys = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'invalid_type' && options.what !== undefined)
        return issue.input === undefined
          ? `required, expected ${options.what}`
          : `expected ${options.what}, got ${showValue(issue.input)}`;
      if (issue.code !== 'unrecognized_keys') return undefined;
      return issue.keys
        .map((key) => {
          const suggestion = closestMatch(key, knownKeys);
          // The key as a value is shown: quoted and cut (a 100 KB key is not printed whole).
          const shown = showValue(key);
          return suggestion ? `unknown key ${shown}, did you mean "${suggestion}"?` : `unknown key ${shown}`;
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
  return z
    .string({ error: expected('a URL such as "https://shop.example/health"') })
    .refine(
      (text) => {
        try {
          const url = new URL(text);
          return url.protocol === 'http:' || url.protocol === 'https:';
        } catch {
          return false;
        }
      },
      { error: (issue) => `expected an http:// or https:// URL, got ${showValue(issue.input)}` },
    )
    .refine((text) => !urlHoldsCredentials(text), {
      // The URL is shown without its credentials: the message itself must not leak them.
      error: (issue) =>
        `must not hold credentials ("user:password@" in ${showValue(withoutCredentials(String(issue.input)))}): they would be sent in clear to every redirect and kept in every result; use "auth" ({ username, password: "\${env:NAME}" } or { bearer: "\${env:NAME}" }) with a secret reference`,
    });
}

function urlHoldsCredentials(text: string): boolean {
  try {
    const url = new URL(text);
    return url.username !== '' || url.password !== '';
  } catch {
    return false;
  }
}

function withoutCredentials(text: string): string {
  const url = new URL(text);
  url.username = '***';
  url.password = '';
  return url.href;
}

/** Identifier used in keys, queue names and URLs: no spaces, no colons. */
export function identifier(what: string) {
  return z.string({ error: expected(`a ${what} id`) }).regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, {
    error: (issue) =>
      `${what} id must be letters, digits, "-", "_" or "." (at most 100), got ${showValue(issue.input)}`,
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

/**
 * A PEM file (CA bundle, certificate or private key), relative to the config file. While a
 * config is loaded (`inConfigDir`) the file must exist and hold what it should, so a typo
 * in the path is a problem `validate` reports with its path, not a probe that fails at
 * every run.
 */
export function pemFile(contents: PemContents) {
  const { what } = PEM_CONTENTS[contents];
  return z
    .string({ error: expected(`${what}, relative to the config file`) })
    .min(1)
    .superRefine((file, ctx) => {
      const dir = currentConfigDir();
      if (dir === undefined || file === '') return;
      const problem = pemFileProblem(resolve(dir, file), contents);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });
}
