import { appendFileSync } from 'node:fs';
import type {
  FullResult,
  Reporter,
  TestCase,
  TestError,
  TestResult,
  TestStep,
} from '@playwright/test/reporter';
import { SPEC_EVENTS_ENV, type SpecEvent } from './spec-events.ts';

/** Categories of top-level steps that become pathwatch steps: the spec's own and its hooks. */
const STEP_CATEGORIES = new Set(['test.step', 'hook']);

function messageOf(error: TestError | undefined): string | undefined {
  if (!error) return undefined;
  return error.message ?? error.value ?? 'unknown error';
}

/**
 * Loaded by Playwright Test in the child pathwatch spawns for one test (see
 * write-spec-wrapper-config.ts): writes the test's top-level steps, its end and its
 * attachments as JSON lines. Synchronous appends: a child killed at its deadline has
 * already written every step it began.
 */
export default class PathwatchSpecReporter implements Reporter {
  private readonly file = process.env[SPEC_EVENTS_ENV];

  printsToStdio(): boolean {
    return false;
  }

  private write(event: SpecEvent): void {
    if (this.file) appendFileSync(this.file, `${JSON.stringify(event)}\n`);
  }

  onStepBegin(_test: TestCase, _result: TestResult, step: TestStep): void {
    if (step.parent || !STEP_CATEGORIES.has(step.category)) return;
    this.write({
      type: 'step-begin',
      title: step.title,
      category: step.category,
      startedAt: step.startTime.getTime(),
    });
  }

  onStepEnd(_test: TestCase, _result: TestResult, step: TestStep): void {
    if (step.parent || !STEP_CATEGORIES.has(step.category)) return;
    const error = messageOf(step.error);
    this.write({
      type: 'step-end',
      title: step.title,
      category: step.category,
      startedAt: step.startTime.getTime(),
      durationMs: step.duration,
      ...(error !== undefined ? { error } : {}),
    });
  }

  onTestEnd(_test: TestCase, result: TestResult): void {
    this.write({
      type: 'test-end',
      status: result.status,
      durationMs: result.duration,
      errors: result.errors.map((error) => messageOf(error) ?? 'unknown error'),
      attachments: result.attachments.map(({ name, contentType, path }) => ({ name, contentType, path })),
    });
  }

  onError(error: TestError): void {
    this.write({ type: 'run-end', status: 'error', errors: [messageOf(error) ?? 'unknown error'] });
  }

  onEnd(result: FullResult): void {
    this.write({ type: 'run-end', status: result.status, errors: [] });
  }
}
