import { join } from 'node:path';
import { expect } from '@playwright/test';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright';
import { RunCancelledError } from '../checks/run-cancelled-error.ts';
import { SecretError } from '../config/secret-resolver.ts';
import { errorOf } from '../results/error-codes.ts';
import type { RunResult } from '../results/run-result.ts';
import type { BrowserPool } from './browser-pool.ts';
import type { BrowserSettings } from './browser-settings.ts';
import { collectJourneyEvidence } from './collect-journey-evidence.ts';
import { collectReceivedTokens } from './collect-received-tokens.ts';
import { createStepFunction } from './create-step-function.ts';
import { describeJourneyFailure, type JourneyFailure } from './describe-journey-failure.ts';
import { finishJourneyRun } from './finish-journey-run.ts';
import type { JourneyAttemptOptions } from './journey-attempt-options.ts';
import { browserContextOptionsOf } from './journey-context-options.ts';
import { JourneyCut } from './journey-cut.ts';
import type { LoadedJourney } from './load-journey.ts';
import { observeApiRequests } from './observe-api-requests.ts';
import { removeTraceFiles } from './remove-trace-files.ts';
import { inRunWorkDir, startJourneyRun, tracesAttempt } from './start-journey-run.ts';
import { EVIDENCE_TIMEOUT_MS, withTimeout } from './with-timeout.ts';

export interface RunJourneyOptions extends JourneyAttemptOptions {
  pool: BrowserPool;
  settings: Pick<BrowserSettings, 'trace' | 'traceScreenshots' | 'har' | 'screenshots'>;
}

/**
 * Longest a cut body (deadline, cancel) is awaited once its context is closed: its
 * Playwright calls reject at once then, and a body waiting on something else gets `signal`.
 */
const BODY_STOP_TIMEOUT_MS = 3000;

/**
 * Runs one journey once in a fresh browser context and always returns a RunResult:
 * a failing step, a hang past the timeout and a browser crash are results. Evidence (trace,
 * screenshot, HAR) is stored as artifacts of the run, with credentials masked.
 */
export async function runJourney(journey: LoadedJourney, options: RunJourneyOptions): Promise<RunResult> {
  return inRunWorkDir('journey-', (workDir) => runJourneyIn(workDir, journey, options));
}

async function runJourneyIn(
  workDir: string,
  journey: LoadedJourney,
  options: RunJourneyOptions,
): Promise<RunResult> {
  const run = startJourneyRun(journey, options);
  const { runId } = run.identity;
  const { secrets, steps, observations, artifacts } = run;
  const { settings } = options;
  const tracing = tracesAttempt(settings.trace, options.attempt);

  // Cancelled before it began (the worker stopped while the job was being taken): no browser.
  if (options.signal?.aborted) {
    return finishJourneyRun(
      run,
      'error',
      errorOf('CANCELLED', `journey "${journey.id}": ${RunCancelledError.messageOf(options.signal.reason)}`),
    );
  }

  let resolvedSecrets: Record<string, string>;
  let contextOptions: BrowserContextOptions;
  try {
    resolvedSecrets = Object.fromEntries(
      Object.entries(journey.secretRefs).map(([name, ref]) => [name, secrets.interpolate(ref)]),
    );
    contextOptions = browserContextOptionsOf(journey.use, secrets);
  } catch (error) {
    if (error instanceof SecretError)
      return finishJourneyRun(run, 'error', errorOf('CONFIG', `journey "${journey.id}": ${error.message}`));
    throw error;
  }

  let browser: Browser;
  try {
    browser = await options.pool.acquire();
  } catch (error) {
    return finishJourneyRun(
      run,
      'error',
      errorOf(
        'INTERNAL',
        `journey "${journey.id}": could not launch Chromium: ${(error as Error).message.split('\n')[0]}`,
      ),
    );
  }

  // Whatever happens from here on, the browser goes back to the pool: a run that throws (an
  // artifact write refused, a full disk) must not keep the pool counting it as in use, or
  // the browser is never recycled and its contexts pile up.
  const traceName = `pathwatch-${runId}`;
  const tracesDir = options.pool.tracesDirOf(browser);
  let context: BrowserContext | undefined;
  let contextClosed = false;
  let cut: JourneyCut | undefined;
  let bodyEnded: Promise<unknown> = Promise.resolve();
  try {
    const harPath = join(workDir, 'network.har');
    // A traced run takes its HAR from the trace's own network log (see har-from-trace.ts).
    const harFromTrace = tracing && settings.har && tracesDir !== undefined;
    cut = new JourneyCut(journey, browser, options.signal);
    const tokenReads: Array<Promise<void>> = [];

    let failure: JourneyFailure | undefined;
    let page: Page | undefined;
    try {
      context = await browser.newContext({
        ...contextOptions,
        ...(settings.har && !harFromTrace ? { recordHar: { path: harPath, content: 'omit' } } : {}),
      });
      if (tracing)
        await context.tracing.start({
          // The screencast costs ~15% CPU per run; DOM snapshots already render every action
          // in the trace viewer, and the failing step gets a real screenshot of its own.
          screenshots: settings.traceScreenshots,
          snapshots: true,
          sources: true,
          title: journey.name,
          name: traceName,
        });
      collectReceivedTokens(context, secrets, tokenReads);
      page = await context.newPage();
      observations.observe(page);
      observeApiRequests(context.request, observations);
      const step = createStepFunction({
        steps,
        cut,
        context,
        page,
        secrets,
        observations,
        artifacts,
        screenshots: settings.screenshots,
        tracing,
        onStep: options.onStep,
      });
      const body = journey.run({
        page,
        context,
        step,
        expect,
        secrets: resolvedSecrets,
        params: journey.params as never,
        signal: cut.signal,
      });
      bodyEnded = body.catch(() => {}); // a body cut by the deadline may still reject later
      await Promise.race([body, cut.interrupted]);
    } catch (error) {
      failure = describeJourneyFailure(journey.id, error, {
        steps,
        failuresSince: (since) => observations.failuresSince(since),
      });
    } finally {
      cut.clearDeadline();
    }

    const crashed = !browser.isConnected();
    if (cut.cancelled && context) {
      // A cancelled run keeps no evidence: the stop is not the target's doing, and it must be
      // quick. Its trace's unmasked files go with its context.
      await withTimeout(context.close(), EVIDENCE_TIMEOUT_MS);
      contextClosed = true;
      if (tracesDir) await removeTraceFiles(tracesDir, traceName);
    }
    if (context && !crashed && !cut.cancelled) {
      await collectJourneyEvidence({
        browser,
        context,
        page,
        failed: failure !== undefined,
        settings,
        tracing,
        harFromTrace,
        harPath,
        workDir,
        tracesDir,
        traceName,
        secrets,
        tokenReads,
        observations,
        artifacts,
        onContextClosed: () => {
          contextClosed = true;
        },
      });
    }
    // The context is closed, so a body still running (cut at the deadline) fails its next
    // Playwright call: it ends now, not in the background after the run is stored.
    if (failure) await withTimeout(bodyEnded, BODY_STOP_TIMEOUT_MS);
    const details = { url: page && !page.isClosed() ? secrets.mask(page.url()) : undefined };
    return failure
      ? finishJourneyRun(run, failure.status, errorOf(failure.code, failure.message), details)
      : finishJourneyRun(run, 'pass', undefined, details);
  } finally {
    cut?.dispose();
    if (context && !contextClosed) {
      // The run ended before its evidence was collected: its context and its trace's
      // unmasked files go now, not when the browser is recycled.
      if (browser.isConnected()) await withTimeout(context.close(), EVIDENCE_TIMEOUT_MS);
      if (tracesDir) await removeTraceFiles(tracesDir, traceName);
    }
    await options.pool.release(browser);
  }
}
