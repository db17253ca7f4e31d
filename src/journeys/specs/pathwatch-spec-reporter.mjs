// Plain JavaScript on purpose: Playwright Test loads this reporter in the child pathwatch
// spawns for one test, and it compiles TypeScript only outside node_modules, where a QA
// repository's installed pathwatch lives. The events it writes are typed in spec-events.ts.
import { appendFileSync } from 'node:fs';

/** Categories of top-level steps that become pathwatch steps: the spec's own and its hooks. */
const STEP_CATEGORIES = new Set(['test.step', 'hook']);

/** @param {import('@playwright/test/reporter').TestError | undefined} error */
function messageOf(error) {
  if (!error) return undefined;
  return error.message ?? error.value ?? 'unknown error';
}

/**
 * Writes the test's top-level steps, its end and its attachments as JSON lines to the file
 * pathwatch names in the reporter's options (see write-spec-wrapper-config.ts). Synchronous
 * appends: a child killed at its deadline has already written every step it began.
 * @implements {import('@playwright/test/reporter').Reporter}
 */
export default class PathwatchSpecReporter {
  /** @param {{ eventsFile?: string }} options */
  constructor(options = {}) {
    this.file = options.eventsFile;
  }

  printsToStdio() {
    return false;
  }

  /** @param {import('./spec-events.ts').SpecEvent} event */
  write(event) {
    if (this.file) appendFileSync(this.file, `${JSON.stringify(event)}\n`);
  }

  /** @param {unknown} _test @param {unknown} _result @param {import('@playwright/test/reporter').TestStep} step */
  onStepBegin(_test, _result, step) {
    if (step.parent || !STEP_CATEGORIES.has(step.category)) return;
    this.write({
      type: 'step-begin',
      title: step.title,
      category: step.category,
      startedAt: step.startTime.getTime(),
    });
  }

  /** @param {unknown} _test @param {unknown} _result @param {import('@playwright/test/reporter').TestStep} step */
  onStepEnd(_test, _result, step) {
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

  /** @param {unknown} _test @param {import('@playwright/test/reporter').TestResult} result */
  onTestEnd(_test, result) {
    this.write({
      type: 'test-end',
      status: result.status,
      durationMs: result.duration,
      errors: result.errors.map((error) => messageOf(error) ?? 'unknown error'),
      attachments: result.attachments.map(({ name, contentType, path }) => ({ name, contentType, path })),
    });
  }

  /** @param {import('@playwright/test/reporter').TestError} error */
  onError(error) {
    this.write({ type: 'run-end', status: 'error', errors: [messageOf(error) ?? 'unknown error'] });
  }

  /** @param {import('@playwright/test/reporter').FullResult} result */
  onEnd(result) {
    this.write({ type: 'run-end', status: result.status, errors: [] });
  }
}
