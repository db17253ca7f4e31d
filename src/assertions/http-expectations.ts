import { z } from 'zod';
import type { AssertionResult } from '../checks/run-result.ts';
import { duration, regexSource as regexSourceSchema, strictObject } from '../config/zod-helpers.ts';
import { isValidJsonPath, readJsonPath } from './json-path.ts';
import { describeStatusSpec, statusMatches, statusSpecSchema } from './status-matcher.ts';

const regexSource = regexSourceSchema();

const jsonExpectation = strictObject({
  /** `$.status`, `$.items[0].sku` */
  path: z
    .string()
    .refine(isValidJsonPath, { error: 'expected a JSON path such as "$.status" or "$.items[0].id"' }),
  equals: z.unknown().optional(),
  matches: regexSource.optional(),
  exists: z.boolean().optional(),
});

/** What counts as a good HTTP answer. Everything is optional; by default any 2xx passes. */
export const httpExpectationsSchema = strictObject({
  /** Accepted statuses; default "2xx". */
  status: statusSpecSchema.optional(),
  /** Header name → exact value or `/regex/`. */
  headers: z.record(z.string(), z.string()).optional(),
  bodyContains: z.array(z.string()).optional(),
  bodyNotContains: z.array(z.string()).optional(),
  bodyMatches: z.array(regexSource).optional(),
  json: z.array(jsonExpectation).optional(),
  /** Slower than this fails the run. */
  maxResponseTime: duration({ min: 1 }).optional(),
  /** Slower than this (but within maxResponseTime) makes the run degraded. */
  degradedResponseTime: duration({ min: 1 }).optional(),
  /** Fewer days than this before the certificate expires fails the run. */
  certDaysLeft: z.number().int().min(0).optional(),
  maxBodyBytes: z.number().int().min(0).optional(),
});
export type HttpExpectations = z.output<typeof httpExpectationsSchema>;

export interface HttpObservation {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  bodyBytes: number;
  totalMs: number;
  certValidTo?: Date;
}

function headerMatches(actual: string, expected: string): boolean {
  const regex = /^\/(.*)\/([a-z]*)$/.exec(expected);
  return regex ? new RegExp(regex[1], regex[2]).test(actual) : actual === expected;
}

function preview(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
}

export function evaluateHttpExpectations(expect: HttpExpectations, seen: HttpObservation): AssertionResult[] {
  const results: AssertionResult[] = [];
  const statusSpec = expect.status ?? '2xx';
  results.push({
    name: `status ${describeStatusSpec(statusSpec)}`,
    ok: statusMatches(seen.status, statusSpec),
    expected: describeStatusSpec(statusSpec),
    actual: seen.status,
  });
  for (const [name, expected] of Object.entries(expect.headers ?? {})) {
    const raw = seen.headers[name.toLowerCase()];
    const actual = Array.isArray(raw) ? raw.join(', ') : raw;
    results.push({
      name: `header ${name}`,
      ok: actual !== undefined && headerMatches(actual, expected),
      expected,
      actual: actual ?? '(absent)',
    });
  }
  for (const text of expect.bodyContains ?? []) {
    results.push({
      name: `body contains ${JSON.stringify(text)}`,
      ok: seen.body.includes(text),
      expected: text,
      actual: preview(seen.body),
    });
  }
  for (const text of expect.bodyNotContains ?? []) {
    results.push({
      name: `body does not contain ${JSON.stringify(text)}`,
      ok: !seen.body.includes(text),
      expected: `no ${text}`,
    });
  }
  for (const source of expect.bodyMatches ?? []) {
    results.push({
      name: `body matches /${source}/`,
      ok: new RegExp(source).test(seen.body),
      expected: `/${source}/`,
      actual: preview(seen.body),
    });
  }
  if (expect.json?.length) results.push(...evaluateJson(expect.json, seen.body));
  if (expect.maxResponseTime !== undefined) {
    results.push({
      name: `response time under ${expect.maxResponseTime} ms`,
      ok: seen.totalMs <= expect.maxResponseTime,
      expected: `<= ${expect.maxResponseTime} ms`,
      actual: `${Math.round(seen.totalMs)} ms`,
    });
  }
  if (expect.degradedResponseTime !== undefined && seen.totalMs > expect.degradedResponseTime) {
    results.push({
      name: `response time under ${expect.degradedResponseTime} ms (degraded limit)`,
      ok: false,
      degraded: true,
      expected: `<= ${expect.degradedResponseTime} ms`,
      actual: `${Math.round(seen.totalMs)} ms`,
    });
  }
  if (expect.certDaysLeft !== undefined) {
    const daysLeft = seen.certValidTo
      ? Math.floor((seen.certValidTo.getTime() - Date.now()) / 86_400_000)
      : undefined;
    results.push({
      name: `certificate valid for at least ${expect.certDaysLeft} days`,
      ok: daysLeft !== undefined && daysLeft >= expect.certDaysLeft,
      expected: `>= ${expect.certDaysLeft} days`,
      actual: daysLeft === undefined ? 'no certificate (plain http)' : `${daysLeft} days`,
    });
  }
  if (expect.maxBodyBytes !== undefined) {
    results.push({
      name: `body at most ${expect.maxBodyBytes} bytes`,
      ok: seen.bodyBytes <= expect.maxBodyBytes,
      expected: `<= ${expect.maxBodyBytes} bytes`,
      actual: `${seen.bodyBytes} bytes`,
    });
  }
  return results;
}

function evaluateJson(expectations: NonNullable<HttpExpectations['json']>, body: string): AssertionResult[] {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch {
    return [{ name: 'body is JSON', ok: false, expected: 'JSON', actual: preview(body) }];
  }
  return expectations.map((expectation) => {
    const { found, value } = readJsonPath(document, expectation.path);
    if (expectation.exists === false) {
      return {
        name: `${expectation.path} absent`,
        ok: !found,
        expected: '(absent)',
        actual: found ? value : '(absent)',
      };
    }
    if (!found)
      return { name: `${expectation.path} exists`, ok: false, expected: 'a value', actual: '(absent)' };
    if (expectation.equals !== undefined) {
      return {
        name: `${expectation.path} equals ${JSON.stringify(expectation.equals)}`,
        ok: JSON.stringify(value) === JSON.stringify(expectation.equals),
        expected: expectation.equals,
        actual: value,
      };
    }
    if (expectation.matches !== undefined) {
      return {
        name: `${expectation.path} matches /${expectation.matches}/`,
        ok: new RegExp(expectation.matches).test(typeof value === 'string' ? value : JSON.stringify(value)),
        expected: `/${expectation.matches}/`,
        actual: value,
      };
    }
    return { name: `${expectation.path} exists`, ok: true, actual: value };
  });
}

/** One line for a failed assertion: `status 2xx: expected 2xx, got 500`. */
export function describeAssertionFailure(result: AssertionResult): string {
  const actual = typeof result.actual === 'string' ? result.actual : JSON.stringify(result.actual);
  const expected = typeof result.expected === 'string' ? result.expected : JSON.stringify(result.expected);
  return result.expected === undefined
    ? `${result.name} failed`
    : `${result.name}: expected ${expected}, got ${actual}`;
}
