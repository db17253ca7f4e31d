import { z } from 'zod';
import { duration, regexSource as regexSourceSchema, strictObject } from '../config/zod-helpers.ts';
import type { AssertionResult } from '../results/run-result.ts';
import { isValidJsonPath, readJsonPath } from './json-path.ts';
import { describeStatusSpec, statusMatches, statusSpecSchema } from './status-matcher.ts';

const regexSource = regexSourceSchema();

const jsonExpectation = strictObject({
  path: z
    .string()
    .refine(isValidJsonPath, { error: 'expected a JSON path such as "$.status" or "$.items[0].id"' })
    .describe('JSON path into the body: `$.status`, `$.items[0].sku`. Required.'),
  equals: z.unknown().optional().describe('The value must equal this (compared as JSON).'),
  matches: regexSource.optional().describe('The value (as text) must match this regular expression.'),
  exists: z
    .boolean()
    .optional()
    .describe('`true`: the path must exist (the default check); `false`: it must not.'),
});

/**
 * What counts as a good HTTP answer. Everything is optional; by default any 2xx passes.
 * Certificate expiry limits are the `tls` block's `warnDays` / `failDays`.
 */
export const httpExpectationsSchema = strictObject({
  status: statusSpecSchema
    .optional()
    .describe('Accepted statuses: `200`, `"200-299"`, `"2xx"` or a list. Default `"2xx"`.'),
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe('Header name → exact value or `/regex/`. Default none.'),
  bodyContains: z.array(z.string()).optional().describe('Texts the body must contain. Default none.'),
  bodyNotContains: z.array(z.string()).optional().describe('Texts the body must not contain. Default none.'),
  bodyMatches: z
    .array(regexSource)
    .optional()
    .describe('Regular expressions the body must match. Default none.'),
  json: z
    .array(jsonExpectation)
    .optional()
    .describe('`[{ path: "$.status", equals | matches | exists }]` on a JSON body. Default none.'),
  maxResponseTime: duration({ min: 1 }).optional().describe('Slower than this fails the run. Default none.'),
  degradedResponseTime: duration({ min: 1 })
    .optional()
    .describe('Slower than this (but within maxResponseTime) makes the run degraded. Default none.'),
  maxBodyBytes: z.number().int().min(0).optional().describe('Largest body accepted, in bytes. Default none.'),
});
export type HttpExpectations = z.output<typeof httpExpectationsSchema>;

export interface HttpObservation {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  bodyBytes: number;
  totalMs: number;
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
