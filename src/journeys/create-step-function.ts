import type { BrowserContext, Page } from 'playwright';
import type { SecretResolver } from '../config/secret-resolver.ts';
import type { StepResult } from '../results/run-result.ts';
import { parseDuration } from '../util/duration.ts';
import type { BrowserSettings } from './browser-settings.ts';
import { compactPlaywrightMessage } from './classify-journey-error.ts';
import type { StepFunction } from './journey.ts';
import type { JourneyCut } from './journey-cut.ts';
import { JourneyInterrupt } from './journey-interrupt.ts';
import type { JourneyStepResult, StepEvent } from './journey-step-result.ts';
import type { PageObservations } from './page-observations.ts';
import type { RunArtifacts } from './run-artifacts.ts';
import { StepFailure } from './step-failure.ts';

export interface StepFunctionOptions {
  /** Filled as steps end, in order: the run result's `steps`. */
  steps: JourneyStepResult[];
  cut: JourneyCut;
  context: BrowserContext;
  page: Page;
  /** Step names and errors are masked with it. */
  secrets: SecretResolver;
  observations: PageObservations;
  artifacts: RunArtifacts;
  screenshots: BrowserSettings['screenshots'];
  /** Whether the context is being traced: each step is a group in the trace. */
  tracing: boolean;
  onStep?: (event: StepEvent) => void;
}

/**
 * The journey's `step(name, body, { timeout })`: times the step, records its result and the
 * navigation it caused, enforces its own timeout and names it in the error that ends the run.
 */
export function createStepFunction(options: StepFunctionOptions): StepFunction {
  const { steps, cut, context, page, secrets, observations, tracing } = options;
  return async (name, body, stepOptions) => {
    // A body that outlives its run starts no more steps.
    if (cut.signal.aborted) throw cut.signal.reason;
    const index = steps.length + 1;
    const shownName = secrets.mask(name);
    cut.running = { index, name: shownName };
    options.onStep?.({ type: 'start', index, name: shownName });
    const stepStartedAt = Date.now();
    const stepT0 = performance.now();
    const navigationsBefore = observations.navigations.length;
    if (tracing) await context.tracing.group(shownName).catch(() => {});
    const timeoutMs =
      typeof stepOptions?.timeout === 'string' ? parseDuration(stepOptions.timeout) : stepOptions?.timeout;
    let stepTimer: NodeJS.Timeout | undefined;
    const record = (status: StepResult['status'], error?: string) => {
      const result: JourneyStepResult = {
        name: shownName,
        startedAt: stepStartedAt,
        durationMs: Math.round((performance.now() - stepT0) * 10) / 10,
        status,
        ...(error ? { error: secrets.mask(error) } : {}),
      };
      steps.push(result);
      return result;
    };
    try {
      const work = body();
      work.catch(() => {}); // a step cut by its timeout may still reject later
      const result = timeoutMs
        ? await Promise.race([
            work,
            new Promise<never>((_, reject) => {
              stepTimer = setTimeout(
                () => reject(new JourneyInterrupt('TIMEOUT', 'fail', `timeout of ${timeoutMs} ms exceeded`)),
                timeoutMs,
              );
            }),
          ])
        : await work;
      // A step that ended after its run was cut did not pass in time: it is the cut one.
      if (cut.signal.aborted) throw cut.signal.reason;
      const done = record('pass');
      if (observations.navigations.length > navigationsBefore)
        done.navigation = observations.navigations.at(-1);
      if (options.screenshots === 'every-step') await options.artifacts.screenshot(page, `step-${index}.png`);
      options.onStep?.({ type: 'end', index, step: done });
      return result;
    } catch (error) {
      const message =
        error instanceof JourneyInterrupt
          ? error.message
          : compactPlaywrightMessage((error as Error)?.message ?? String(error));
      const failed = record('fail', message);
      options.onStep?.({ type: 'end', index, step: failed });
      throw error instanceof StepFailure ? error : new StepFailure(index, shownName, error);
    } finally {
      clearTimeout(stepTimer);
      if (tracing) await context.tracing.groupEnd().catch(() => {});
      cut.running = undefined;
    }
  };
}
