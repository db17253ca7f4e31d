import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from '@playwright/test';
import type { Browser, BrowserContext, Page } from 'playwright';
import type { ArtifactStore } from '../artifacts/artifact-store.ts';
import { maskRunResult } from '../checks/mask-run-result.ts';
import { tokensInBody, tokensInHeader, tokensInUrl } from '../checks/received-tokens.ts';
import { RunCancelledError } from '../checks/run-cancelled-error.ts';
import { SecretError, type SecretResolver } from '../config/secret-resolver.ts';
import type {
  ArtifactRef,
  ErrorClass,
  Peer,
  RunResult,
  RunStatus,
  StepResult,
} from '../results/run-result.ts';
import { parseDuration } from '../util/duration.ts';
import { processTempDir } from '../util/process-temp-dir.ts';
import type { BrowserPool } from './browser-pool.ts';
import type { BrowserSettings } from './browser-settings.ts';
import { classifyJourneyError, compactPlaywrightMessage } from './classify-journey-error.ts';
import { harFromTraceNetwork } from './har-from-trace.ts';
import type { StepFunction } from './journey.ts';
import type { LoadedJourney } from './load-journey.ts';
import { redactHar } from './redact-har.ts';
import { redactTrace } from './redact-trace.ts';

export type StepEvent =
  | { type: 'start'; index: number; name: string }
  | { type: 'end'; index: number; step: JourneyStepResult };

export interface JourneyStepResult extends StepResult {
  /**
   * The last page the step loaded: when it started (epoch ms) and, in ms from then, its
   * first byte, DOMContentLoaded and load (absent when the step ended first).
   */
  navigation?: {
    url: string;
    startedAt: number;
    firstByte: number;
    domContentLoaded?: number;
    load?: number;
  };
}

export interface RunJourneyOptions {
  pool: BrowserPool;
  artifacts: ArtifactStore;
  secrets: SecretResolver;
  settings: Pick<BrowserSettings, 'trace' | 'traceScreenshots' | 'har' | 'screenshots'>;
  location: string;
  runId?: string;
  scheduledAt?: number;
  attempt?: number;
  /** Called as steps start and end: `pathwatch run` prints them live. */
  onStep?: (event: StepEvent) => void;
  /**
   * The caller's signal (the worker's job). When it aborts, the page's context is closed at
   * once so the body's Playwright calls reject, the body is awaited (bounded), no evidence is
   * collected, and the run ends as status `error` with the abort reason ("cancelled by shutdown").
   */
  signal?: AbortSignal;
}

/** Why the run ended early, before the body's own error (if any) is looked at. */
class JourneyInterrupt extends Error {
  constructor(
    readonly errorClass: ErrorClass,
    readonly status: RunStatus,
    message: string,
  ) {
    super(message);
  }
}

class StepFailure extends Error {
  constructor(
    readonly index: number,
    readonly stepName: string,
    readonly reason: unknown,
  ) {
    super(`step ${index} "${stepName}" failed`);
  }
}

/** Bounds for evidence collection, so a wedged page cannot hold the worker after the run. */
const EVIDENCE_TIMEOUT_MS = 5000;
/**
 * Longest a cut body (deadline, cancel) is awaited once its context is closed: its
 * Playwright calls reject at once then, and a body waiting on something else gets `signal`.
 */
const BODY_STOP_TIMEOUT_MS = 3000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.catch(() => undefined),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Runs one journey once in a fresh browser context and always returns a RunResult:
 * a failing step, a hang past the timeout and a browser crash are results. Evidence (trace,
 * screenshot, HAR) is stored as artifacts of the run, with credentials masked.
 */
export async function runJourney(journey: LoadedJourney, options: RunJourneyOptions): Promise<RunResult> {
  // The run's HAR and raw trace.zip (secrets not yet masked) go, however the run ends.
  const workDir = await mkdtemp(join(processTempDir(), 'journey-'));
  try {
    return await runJourneyIn(workDir, journey, options);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function runJourneyIn(
  workDir: string,
  journey: LoadedJourney,
  options: RunJourneyOptions,
): Promise<RunResult> {
  const runId = options.runId ?? randomUUID();
  const startedAt = Date.now();
  const t0 = performance.now();
  const { settings } = options;
  // The run's own resolver: tokens the journey receives are masked in this run's result
  // and evidence like the secrets it was given.
  const secrets = options.secrets.forRun();
  // on-first-retry: only the confirmation attempt of a failed run is traced.
  const tracing =
    settings.trace === 'on' ||
    settings.trace === 'retain-on-failure' ||
    (settings.trace === 'on-first-retry' && (options.attempt ?? 1) > 1);
  const steps: JourneyStepResult[] = [];
  const peers: Peer[] = [];
  const artifacts: ArtifactRef[] = [];
  const consoleErrors: string[] = [];
  const failedRequests: Array<{ url: string; error: string }> = [];
  const base = {
    runId,
    checkId: journey.id,
    kind: 'journey',
    location: options.location,
    scheduledAt: options.scheduledAt,
    startedAt,
    attempt: options.attempt ?? 1,
    // Its schedule slot (⌊scheduledAt / interval⌋) judges it alongside the other locations' runs.
    ...(journey.interval !== undefined ? { intervalMs: journey.interval } : {}),
  };
  const finish = (
    status: RunStatus,
    error?: { class: ErrorClass; message: string },
    details?: Record<string, unknown>,
  ): RunResult =>
    // Masked whole where it leaves the journey: every field, in every encoding.
    maskRunResult(
      {
        ...base,
        finishedAt: Date.now(),
        status,
        phases: { total: Math.round((performance.now() - t0) * 10) / 10 },
        peers,
        steps,
        artifacts,
        ...(error ? { error } : {}),
        details: { consoleErrors, failedRequests, ...details },
      },
      (text) => secrets.mask(text),
    );

  // Cancelled before it began (the worker stopped while the job was being taken): no browser.
  if (options.signal?.aborted) {
    return finish('error', {
      class: 'internal',
      message: `journey "${journey.id}": ${RunCancelledError.messageOf(options.signal.reason)}`,
    });
  }

  let resolvedSecrets: Record<string, string>;
  try {
    resolvedSecrets = Object.fromEntries(
      Object.entries(journey.secretRefs).map(([name, ref]) => [name, secrets.interpolate(ref)]),
    );
  } catch (error) {
    if (error instanceof SecretError)
      return finish('error', { class: 'config', message: `journey "${journey.id}": ${error.message}` });
    throw error;
  }

  let browser: Browser;
  try {
    browser = await options.pool.acquire();
  } catch (error) {
    return finish('error', {
      class: 'internal',
      message: `journey "${journey.id}": could not launch Chromium: ${(error as Error).message.split('\n')[0]}`,
    });
  }

  // Whatever happens from here on, the browser goes back to the pool: a run that throws (an
  // artifact write refused, a full disk) must not keep the pool counting it as in use, or
  // the browser is never recycled and its contexts pile up.
  const traceName = `pathwatch-${runId}`;
  const tracesDir = options.pool.tracesDirOf(browser);
  let context: BrowserContext | undefined;
  let contextClosed = false;
  let onDisconnected = () => {};
  let onCancel = () => {};
  // Aborted when the run is cut (deadline, cancel, crash): the body's `signal`.
  const cut = new AbortController();
  let bodyEnded: Promise<unknown> = Promise.resolve();
  try {
    const harPath = join(workDir, 'network.har');
    // A traced run takes its HAR from the trace's own network log (see har-from-trace.ts).
    const harFromTrace = tracing && settings.har && tracesDir !== undefined;
    let running: { index: number; name: string } | undefined;
    let interrupt: (reason: JourneyInterrupt) => void = () => {};
    const interrupted = new Promise<never>((_, reject) => {
      interrupt = (reason) => {
        reject(reason);
        cut.abort(reason);
      };
    });
    interrupted.catch(() => {}); // observed through Promise.race below
    const where = () => (running ? ` step ${running.index} "${running.name}"` : '');
    onDisconnected = () =>
      interrupt(
        new JourneyInterrupt('internal', 'error', `journey "${journey.id}"${where()}: browser crashed`),
      );
    browser.on('disconnected', onDisconnected);
    let cancelled = false;
    onCancel = () => {
      cancelled = true;
      interrupt(
        new JourneyInterrupt(
          'internal',
          'error',
          `journey "${journey.id}"${where()}: ${RunCancelledError.messageOf(options.signal?.reason)}`,
        ),
      );
    };
    if (options.signal?.aborted) onCancel();
    else options.signal?.addEventListener('abort', onCancel, { once: true });
    const deadline = setTimeout(
      () =>
        interrupt(
          new JourneyInterrupt(
            'timeout',
            'fail',
            `journey "${journey.id}"${where()}: journey timeout of ${journey.timeout} ms exceeded`,
          ),
        ),
      journey.timeout,
    );
    const peerLookups: Array<Promise<void>> = [];
    const tokenReads: Array<Promise<void>> = [];

    let failure: { status: RunStatus; class: ErrorClass; message: string } | undefined;
    let page: Page | undefined;
    try {
      context = await browser.newContext(
        settings.har && !harFromTrace ? { recordHar: { path: harPath, content: 'omit' } } : {},
      );
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
      const currentPage = page;
      currentPage.on('console', (message) => {
        if (message.type() === 'error' && consoleErrors.length < 50)
          consoleErrors.push(secrets.mask(message.text()));
      });
      currentPage.on('pageerror', (error) => {
        if (consoleErrors.length < 50) consoleErrors.push(secrets.mask(error.message));
      });
      currentPage.on('requestfailed', (request) => {
        if (failedRequests.length < 50) {
          failedRequests.push({
            url: secrets.mask(request.url()),
            error: request.failure()?.errorText ?? 'failed',
          });
        }
      });
      // Navigation timings come from events Playwright already sends (the document's
      // response timing, then DOMContentLoaded and load), not from a page.evaluate per step.
      const navigations: NonNullable<JourneyStepResult['navigation']>[] = [];
      currentPage.on('response', (response) => {
        const request = response.request();
        if (!request.isNavigationRequest() || request.frame() !== currentPage.mainFrame()) return;
        const timing = request.timing();
        navigations.push({
          url: secrets.mask(response.url()),
          startedAt: timing.startTime,
          firstByte: Math.round(timing.responseStart * 10) / 10,
        });
      });
      const markNavigation = (field: 'domContentLoaded' | 'load') => () => {
        const navigation = navigations.at(-1);
        if (navigation && navigation[field] === undefined) {
          navigation[field] = Math.round((Date.now() - navigation.startedAt) * 10) / 10;
        }
      };
      currentPage.on('domcontentloaded', markNavigation('domContentLoaded'));
      currentPage.on('load', markNavigation('load'));
      // One serverAddr() round trip per origin, not per response: peers are per server.
      const originsSeen = new Set<string>();
      currentPage.on('response', (response) => {
        const origin = new URL(response.url()).origin;
        if (originsSeen.has(origin)) return;
        originsSeen.add(origin);
        peerLookups.push(
          response
            .serverAddr()
            .then((address) => {
              if (
                address &&
                !peers.some((peer) => peer.ip === address.ipAddress && peer.port === address.port)
              ) {
                peers.push({ ip: address.ipAddress, port: address.port });
              }
            })
            .catch(() => {}),
        );
      });

      const step: StepFunction = async (name, body, stepOptions) => {
        // A body that outlives its run starts no more steps.
        if (cut.signal.aborted) throw cut.signal.reason;
        const index = steps.length + 1;
        const shownName = secrets.mask(name);
        running = { index, name: shownName };
        options.onStep?.({ type: 'start', index, name: shownName });
        const stepStartedAt = Date.now();
        const stepT0 = performance.now();
        const navigationsBefore = navigations.length;
        if (tracing) await context?.tracing.group(shownName).catch(() => {});
        const timeoutMs =
          typeof stepOptions?.timeout === 'string'
            ? parseDuration(stepOptions.timeout)
            : stepOptions?.timeout;
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
                    () =>
                      reject(new JourneyInterrupt('timeout', 'fail', `timeout of ${timeoutMs} ms exceeded`)),
                    timeoutMs,
                  );
                }),
              ])
            : await work;
          // A step that ended after its run was cut did not pass in time: it is the cut one.
          if (cut.signal.aborted) throw cut.signal.reason;
          const done = record('pass');
          if (navigations.length > navigationsBefore) done.navigation = navigations.at(-1);
          if (settings.screenshots === 'every-step') await screenshot(currentPage, `step-${index}.png`);
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
          if (tracing) await context?.tracing.groupEnd().catch(() => {});
          running = undefined;
        }
      };

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
      await Promise.race([body, interrupted]);
    } catch (error) {
      failure = describeFailure(journey.id, error);
    } finally {
      clearTimeout(deadline);
    }

    const crashed = !browser.isConnected();
    if (cancelled && context) {
      // A cancelled run keeps no evidence: the stop is not the target's doing, and it must be
      // quick. Its trace's unmasked files go with its context.
      await withTimeout(context.close(), EVIDENCE_TIMEOUT_MS);
      contextClosed = true;
      if (tracesDir) await removeTraceFiles(tracesDir, traceName);
    }
    if (failure && page && !crashed && !cancelled && !page.isClosed()) await screenshot(page, 'failure.png');
    if (context && !crashed && !cancelled) {
      // Every token must be known before any evidence is masked and written.
      await withTimeout(Promise.all(tokenReads), EVIDENCE_TIMEOUT_MS);
      const cookies = await withTimeout(context.cookies(), EVIDENCE_TIMEOUT_MS);
      const cookieTokens = new Set<string>();
      for (const cookie of cookies ?? [])
        tokensInHeader('cookie', `${cookie.name}=${cookie.value}`, cookieTokens);
      for (const token of cookieTokens) secrets.maskAlso(token);
      const keepTrace = settings.trace === 'on' || (settings.trace !== 'off' && failure !== undefined);
      let harText: string | undefined;
      if (tracing) {
        const tracePath = join(workDir, 'trace.zip');
        await withTimeout(
          keepTrace ? context.tracing.stop({ path: tracePath }) : context.tracing.stop(),
          EVIDENCE_TIMEOUT_MS,
        );
        if (keepTrace) await storeTrace(tracePath);
        if (harFromTrace && tracesDir) {
          // Complete once stop() returns: Playwright flushes requests still in flight then.
          const network = await readFile(join(tracesDir, `${traceName}.network`), 'utf8').catch(
            () => undefined,
          );
          if (network !== undefined) harText = harFromTraceNetwork(network, browser.version());
          await removeTraceFiles(tracesDir, traceName);
        }
      }
      await withTimeout(Promise.all(peerLookups), EVIDENCE_TIMEOUT_MS);
      await withTimeout(context.close(), EVIDENCE_TIMEOUT_MS);
      contextClosed = true;
      if (settings.har) {
        if (!harFromTrace) harText = await readFile(harPath, 'utf8').catch(() => undefined);
        if (harText) {
          const stored = await options.artifacts.put(
            `runs/${runId}/network.har`,
            Buffer.from(redactHar(harText, secrets)),
            'application/json',
          );
          artifacts.push({
            kind: 'har',
            key: stored.key,
            bytes: stored.bytes,
            contentType: stored.contentType,
          });
        }
      }
    }
    // The context is closed, so a body still running (cut at the deadline) fails its next
    // Playwright call: it ends now, not in the background after the run is stored.
    if (failure) await withTimeout(bodyEnded, BODY_STOP_TIMEOUT_MS);
    const details = { url: page && !page.isClosed() ? secrets.mask(page.url()) : undefined };
    return failure
      ? finish(failure.status, { class: failure.class, message: failure.message }, details)
      : finish('pass', undefined, details);
  } finally {
    browser.off('disconnected', onDisconnected);
    options.signal?.removeEventListener('abort', onCancel);
    cut.abort();
    if (context && !contextClosed) {
      // The run ended before its evidence was collected: its context and its trace's
      // unmasked files go now, not when the browser is recycled.
      if (browser.isConnected()) await withTimeout(context.close(), EVIDENCE_TIMEOUT_MS);
      if (tracesDir) await removeTraceFiles(tracesDir, traceName);
    }
    await options.pool.release(browser);
  }

  async function screenshot(target: Page, name: string): Promise<void> {
    const image = await withTimeout(target.screenshot({ timeout: EVIDENCE_TIMEOUT_MS }), EVIDENCE_TIMEOUT_MS);
    if (!image) return;
    const stored = await options.artifacts.put(`runs/${runId}/${name}`, image, 'image/png');
    artifacts.push({
      kind: 'screenshot',
      key: stored.key,
      bytes: stored.bytes,
      contentType: stored.contentType,
    });
  }

  async function storeTrace(path: string): Promise<void> {
    const data = await readFile(path).catch(() => undefined);
    if (!data) return;
    const redacted = Buffer.from(redactTrace(data, secrets));
    const stored = await options.artifacts.put(`runs/${runId}/trace.zip`, redacted, 'application/zip');
    artifacts.push({ kind: 'trace', key: stored.key, bytes: stored.bytes, contentType: stored.contentType });
  }
}

/** Longest response body read for the tokens it may hand out (a login answer is small). */
const TOKEN_BODY_LIMIT = 256 * 1024;
const MAX_TOKEN_BODY_READS = 200;

/**
 * Collects, as the journey runs, the credentials the page sends (Authorization, token
 * headers, tokens in URLs) and the tokens JSON answers hand it (`access_token`, a JWT),
 * so that they are masked like secrets. Cookies are read from the context at the end.
 */
function collectReceivedTokens(
  context: BrowserContext,
  secrets: SecretResolver,
  pending: Array<Promise<void>>,
): void {
  const note = (tokens: Set<string>) => {
    for (const token of tokens) secrets.maskAlso(token);
  };
  context.on('request', (request) => {
    const tokens = tokensInUrl(request.url());
    for (const [name, value] of Object.entries(request.headers())) tokensInHeader(name, value, tokens);
    const body = request.postData();
    if (body && body.length <= TOKEN_BODY_LIMIT) tokensInBody(body, tokens);
    note(tokens);
  });
  context.on('response', (response) => {
    const headers = response.headers();
    const tokens = tokensInUrl(response.url());
    for (const [name, value] of Object.entries(headers)) tokensInHeader(name, value, tokens);
    note(tokens);
    const type = headers['content-type'] ?? '';
    const length = Number(headers['content-length'] ?? 0);
    if (!/json|text\/plain/.test(type) || length > TOKEN_BODY_LIMIT || pending.length >= MAX_TOKEN_BODY_READS)
      return;
    pending.push(
      response
        .text()
        .then((text) => note(tokensInBody(text.slice(0, TOKEN_BODY_LIMIT))))
        .catch(() => {}),
    );
  });
}

/** The run's own files in the browser's tracesDir (resources are shared, content-addressed). */
async function removeTraceFiles(tracesDir: string, traceName: string): Promise<void> {
  const names = await readdir(tracesDir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith(`${traceName}.`) || name.startsWith(`${traceName}-`))
      .map((name) => rm(join(tracesDir, name), { force: true })),
  );
}

function describeFailure(
  journeyId: string,
  error: unknown,
): { status: RunStatus; class: ErrorClass; message: string } {
  if (error instanceof JourneyInterrupt)
    return { status: error.status, class: error.errorClass, message: error.message };
  if (error instanceof StepFailure) {
    const cause = error.reason;
    const prefix = `journey "${journeyId}" step ${error.index} "${error.stepName}": `;
    if (cause instanceof JourneyInterrupt)
      return { status: cause.status, class: cause.errorClass, message: prefix + cause.message };
    return {
      status: 'fail',
      class: classifyJourneyError(cause),
      message: prefix + compactPlaywrightMessage((cause as Error)?.message ?? String(cause)),
    };
  }
  return {
    status: 'fail',
    class: classifyJourneyError(error),
    message: `journey "${journeyId}": ${compactPlaywrightMessage((error as Error)?.message ?? String(error))}`,
  };
}
