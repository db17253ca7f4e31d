import { z } from 'zod';
import { regexSource as regexSourceSchema, strictObject } from '../../config/zod-helpers.ts';
import type { AssertionResult } from '../../results/run-result.ts';
import { timeLimitAssertions, timeLimitFields } from '../time-limits.ts';
import { DNS_RCODES } from './dns-record-types.ts';
import { canonicalAnswer } from './record-text.ts';

const regexSource = regexSourceSchema();

/**
 * What counts as a good DNS answer. Answers are compared in their text forms (A `10.0.0.1`,
 * MX `10 mail.shop.example.`, TXT the joined strings, SRV `prio weight port target`, SOA
 * `mname rname serial refresh retry expire minimum`); names ignore case and the final dot.
 */
export const dnsExpectationsSchema = strictObject({
  /** The response code wanted; default NOERROR. NXDOMAIN makes "this name must not exist" the check. */
  rcode: z
    .enum(DNS_RCODES)
    .default('NOERROR')
    .describe(
      'The response code wanted. Default `NOERROR`; `NXDOMAIN` makes "this name must not exist" the check.',
    ),
  /**
   * The exact set of answers of the asked type, in any order. `[]` asserts that there is none.
   * Without any answer expectation, a NOERROR answer must hold at least one record of the
   * asked type: an empty answer (NODATA) for a monitored name is almost always an outage.
   */
  answers: z
    .array(z.string())
    .optional()
    .describe(
      'The exact set of answers of the asked type, in any order; `[]` asserts there is none. Default: at least one record of the asked type.',
    ),
  /** Answers that must all be present; others may be too. */
  answersContain: z
    .array(z.string())
    .min(1)
    .optional()
    .describe('Answers that must all be present; others may be too. Default none.'),
  /** Regular expression that at least one answer's text form must match (`^v=spf1 `). */
  answerMatches: regexSource
    .optional()
    .describe("Regular expression at least one answer's text form must match (`^v=spf1 `). Default none."),
  /** Regular expression that every answer must match, with at least one answer (`^10\.`). */
  allAnswersMatch: regexSource
    .optional()
    .describe('Regular expression every answer must match, with at least one answer. Default none.'),
  ...timeLimitFields(
    {
      name: 'maxResponseTime',
      description: 'Slower than this (whole run, connect included) fails the run. Default none.',
    },
    {
      name: 'degradedResponseTime',
      description: 'Slower than this, but within maxResponseTime, makes the run degraded. Default none.',
    },
  ),
}).superRefine((expect, ctx) => {
  if (
    expect.maxResponseTime !== undefined &&
    expect.degradedResponseTime !== undefined &&
    expect.degradedResponseTime >= expect.maxResponseTime
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['degradedResponseTime'],
      message: `must be less than maxResponseTime (${expect.maxResponseTime} ms), got ${expect.degradedResponseTime} ms`,
    });
  }
});
export type DnsExpectations = z.output<typeof dnsExpectationsSchema>;

export interface DnsObservation {
  recordType: string;
  /** `A shop.example`, named in every assertion so a message stands on its own. */
  question: string;
  rcode: string;
  /** Text forms of the answer-section records of the asked type. */
  answers: string[];
  totalMs: number;
}

/** Evaluates every expectation; the rcode comes first because a wrong one explains the rest. */
export function evaluateDnsExpectations(expect: DnsExpectations, seen: DnsObservation): AssertionResult[] {
  const results: AssertionResult[] = [];
  const answersName = `answers for ${seen.question}`;
  const canonical = (value: string) => canonicalAnswer(seen.recordType, value);
  const have = new Set(seen.answers.map(canonical));
  const got = listText(seen.recordType, seen.answers);
  results.push({
    name: 'rcode',
    ok: seen.rcode === expect.rcode,
    expected: expect.rcode,
    actual: seen.rcode,
  });
  const hasAnswerExpectation =
    expect.answers !== undefined ||
    expect.answersContain !== undefined ||
    expect.answerMatches !== undefined ||
    expect.allAnswersMatch !== undefined;
  if (!hasAnswerExpectation && expect.rcode === 'NOERROR' && seen.rcode === 'NOERROR') {
    results.push({
      name: answersName,
      ok: seen.answers.length > 0,
      expected: 'at least one',
      actual: seen.answers.length > 0 ? got : 'none',
    });
  }
  if (expect.answers !== undefined) {
    const want = new Set(expect.answers.map(canonical));
    results.push({
      name: answersName,
      ok: want.size === have.size && [...want].every((value) => have.has(value)),
      expected: listText(seen.recordType, expect.answers),
      actual: got,
    });
  }
  if (expect.answersContain !== undefined) {
    results.push({
      name: answersName,
      ok: expect.answersContain.every((value) => have.has(canonical(value))),
      expected: `to include ${listText(seen.recordType, expect.answersContain)}`,
      actual: got,
    });
  }
  if (expect.answerMatches !== undefined) {
    const regex = new RegExp(expect.answerMatches);
    results.push({
      name: answersName,
      ok: seen.answers.some((answer) => regex.test(answer)),
      expected: `one matching /${expect.answerMatches}/`,
      actual: got,
    });
  }
  if (expect.allAnswersMatch !== undefined) {
    const regex = new RegExp(expect.allAnswersMatch);
    results.push({
      name: answersName,
      ok: seen.answers.length > 0 && seen.answers.every((answer) => regex.test(answer)),
      expected: `all matching /${expect.allAnswersMatch}/`,
      actual: got,
    });
  }
  const limits = { max: expect.maxResponseTime, degraded: expect.degradedResponseTime };
  results.push(...timeLimitAssertions(seen.totalMs, Math.round(seen.totalMs), limits, () => 'response time'));
  return results;
}

/**
 * One line for a failed assertion: `rcode: expected NOERROR, got NXDOMAIN (A nope.example)`,
 * `answers for A shop.example: expected [10.0.0.1], got [10.0.0.2]`.
 */
export function describeDnsFailure(result: AssertionResult, question: string): string {
  const line = `${result.name}: expected ${String(result.expected)}, got ${String(result.actual)}`;
  return result.name.includes(question) ? line : `${line} (${question})`;
}

/** Lists longer than this are cut, so a message stays one readable line. */
const LIST_LIMIT = 10;

/** `[10.0.0.1, 10.0.0.2]`; TXT values are quoted because they may hold commas and spaces. */
function listText(recordType: string, values: string[]): string {
  const shown = values
    .slice(0, LIST_LIMIT)
    .map((value) => (recordType === 'TXT' ? JSON.stringify(value) : value.replace(/\s+/g, ' ')));
  const more = values.length > LIST_LIMIT ? `, … +${values.length - LIST_LIMIT} more` : '';
  return `[${shown.join(', ')}${more}]`;
}
