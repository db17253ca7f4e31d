import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { RunCancelledError } from '../../checks/run-cancelled-error.ts';
import { SecretError } from '../../config/secret-resolver.ts';
import { errorOf } from '../../results/error-codes.ts';
import type { RunResult } from '../../results/run-result.ts';
import { processTempDir } from '../../util/process-temp-dir.ts';
import { type BrowserSettings, DEFAULT_CHROMIUM_ARGS, resolveExecutablePath } from '../browser-settings.ts';
import { compactPlaywrightMessage, journeyErrorCode } from '../classify-journey-error.ts';
import { finishJourneyRun } from '../finish-journey-run.ts';
import { harFromTraceNetwork } from '../har-from-trace.ts';
import type { JourneyAttemptOptions } from '../journey-attempt-options.ts';
import type { JourneyStepResult, StepEvent } from '../journey-step-result.ts';
import { inRunWorkDir, startJourneyRun, tracesAttempt } from '../start-journey-run.ts';
import { playwrightTestCli } from './playwright-test-cli.ts';
import { playwrightWorkerEntry } from './playwright-worker-entry.ts';
import { parseSpecEvents, type SpecEvent } from './spec-events.ts';
import type { SpecJourney } from './spec-journey.ts';
import type { SpecWorkerSettings } from './spec-worker.ts';
import type { SpecWorkerPool } from './spec-worker-pool.ts';
import { writeSpecWrapperConfig } from './write-spec-wrapper-config.ts';

export interface RunSpecTestOptions extends JourneyAttemptOptions {
  settings: BrowserSettings;
  /** Extra Chromium flags (tests keep Chromium on loopback). */
  extraBrowserArgs?: string[];
  /**
   * Warm Playwright Test workers to run the test in (the journey worker's, `pathwatch run`'s).
   * Without it, or for a suite that needs Playwright Test's runner around a run (global
   * setup, web servers, project dependencies), every run starts `playwright test`.
   */
  specWorkers?: SpecWorkerPool;
}

/** Playwright's test timeout is this far below the hard deadline, so a timed-out test still writes its trace. */
const TEST_TIMEOUT_MARGIN_MS = 5000;
/** After SIGTERM, how long the runner may take to close its browser before the group is killed. */
const STOP_GRACE_MS = 2000;
/** Steps Playwright adds around the test: kept when they fail (a hook, a fixture), else left out. */
const HOOK_STEPS = new Set(['After Hooks', 'Worker Cleanup']);

/** Playwright Test prefixes a thrown error's message with its name: `TimeoutError: page.goto: …`. */
const ERROR_NAME = /^(\w*Error): /;

/** Playwright Test's error text, as one line, without the error name it prefixes (as a journey's reads). */
function oneLine(message: string): string {
  return compactPlaywrightMessage(message).replace(ERROR_NAME, '');
}

/**
 * The error Playwright Test's text stands for, its name restored, so that it is classed as a
 * journey's error is: a `TimeoutError` (page.goto, a locator action) is a timeout, with the
 * packet capture that goes with one; an `expect` failure (`Error: expect(…)`) an assertion.
 */
function errorOfText(message: string): Error {
  const named = ERROR_NAME.exec(message);
  const error = new Error(named ? message.slice(named[0].length) : message);
  if (named) error.name = named[1];
  return error;
}

function specEnvName(prefix: string, name: string): string {
  return `${prefix}${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

/** Escapes a title for `--grep`, anchored to the test's own title at the end of the line. */
function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

type TestEnd = Extract<SpecEvent, { type: 'test-end' }>;

/** How a run of the test went, whichever ran it (a warm worker, or `playwright test`). */
interface SpecExecution {
  timedOut: boolean;
  cancelled: boolean;
  /** Why the test did not run, when it ended without a test end. */
  notRun?: string;
  /** Where an untraced run's HAR is (`har` on). */
  harPath: string;
  /** A warm worker's trace logs, where a traced run that kept no trace has its HAR. */
  tracesDir?: string;
}

/** What a run is started with, whichever runs it. */
interface SpecRunPlan {
  journey: SpecJourney;
  options: RunSpecTestOptions;
  /** The journey's secrets and params as PATHWATCH_SECRET_<NAME> and PATHWATCH_PARAM_<NAME>. */
  env: Record<string, string>;
  tracing: boolean;
  onEvent: (event: SpecEvent) => void;
}

/**
 * Runs one test of a Playwright Test suite once and always returns a RunResult like a
 * journey's: the test's `test.step()`s are the steps ("Before Hooks", its fixtures and
 * beforeEach, is the first), reported as they happen; the failing step and Playwright's
 * message; the trace (kept as `settings.trace` says), failure screenshot and a HAR built
 * from the trace, peers from the HAR, all masked. Secrets and params reach the test as
 * PATHWATCH_SECRET_<NAME> and PATHWATCH_PARAM_<NAME>.
 *
 * The test runs in a warm Playwright Test worker of `options.specWorkers` (spec-worker.ts)
 * when it can, else in a child `playwright test` limited to it (its file:line, its title,
 * its project), both with the suite's config wrapped (write-spec-wrapper-config.ts).
 */
export async function runSpecTest(journey: SpecJourney, options: RunSpecTestOptions): Promise<RunResult> {
  return inRunWorkDir('spec-', async (workDir) => {
    const run = startJourneyRun(journey, options);
    const { runId } = run.identity;
    const { secrets, steps, artifacts, observations } = run;
    const { settings } = options;
    const name = `journey "${journey.id}"`;
    if (options.signal?.aborted)
      return finishJourneyRun(
        run,
        'error',
        errorOf('CANCELLED', `${name}: ${RunCancelledError.messageOf(options.signal.reason)}`),
      );

    const env: Record<string, string> = {};
    try {
      for (const [secret, ref] of Object.entries(journey.secretRefs))
        env[specEnvName('PATHWATCH_SECRET_', secret)] = secrets.interpolate(ref);
    } catch (error) {
      if (error instanceof SecretError)
        return finishJourneyRun(run, 'error', errorOf('CONFIG', `${name}: ${error.message}`));
      throw error;
    }
    for (const [param, value] of Object.entries(journey.params))
      env[specEnvName('PATHWATCH_PARAM_', param)] = typeof value === 'string' ? value : JSON.stringify(value);

    const collector = new SpecStepCollector(steps, options.onStep);
    const plan: SpecRunPlan = {
      journey,
      options,
      env,
      tracing: tracesAttempt(settings.trace, options.attempt),
      onEvent: (event) => collector.add(event),
    };
    const warm =
      options.specWorkers && journey.spec.needsRunner.length === 0 ? playwrightWorkerEntry() : undefined;
    const pool = options.specWorkers;
    let release: ((reusable: boolean) => Promise<void>) | undefined;
    try {
      let ended: SpecExecution;
      if (pool && warm && 'script' in warm) {
        const key = workerKey(plan, warm.script);
        const worker = await pool.acquire(key, () => workerSettings(plan, warm.script));
        let reusable = false;
        release = (keep) => pool.release(key, worker, keep && reusable);
        const end = await worker.run(
          { file: journey.spec.file, testId: journey.spec.testId },
          { deadlineMs: journey.timeout, signal: options.signal, onEvent: plan.onEvent },
        );
        reusable = end.reusable;
        ended = { ...end, harPath: worker.harPath, tracesDir: worker.tracesDir };
      } else {
        ended = await runUnderRunner(plan, workDir);
      }
      collector.finish();
      const testEnd = collector.testEnd;
      const failedStep = steps.findIndex((step) => step.status === 'fail');
      const stepPrefix = failedStep >= 0 ? ` step ${failedStep + 1} "${steps[failedStep].name}"` : '';

      if (ended.cancelled) {
        // A cancelled run keeps no evidence, as a journey's: the stop is not the target's doing.
        return finishJourneyRun(
          run,
          'error',
          errorOf(
            'CANCELLED',
            `${name}${stepPrefix}: ${RunCancelledError.messageOf(options.signal?.reason)}`,
          ),
        );
      }

      const failed = ended.timedOut || !testEnd || testEnd.status !== 'passed';
      const attachments = testEnd?.attachments ?? [];
      const keepTrace = settings.trace === 'on' || (settings.trace !== 'off' && failed);
      const screenshot = attachments.find((item) => item.contentType === 'image/png' && item.path);
      if (failed && screenshot?.path) {
        const image = await readFile(screenshot.path).catch(() => undefined);
        if (image) {
          const stored = await options.artifacts.put(`runs/${runId}/failure.png`, image, 'image/png');
          artifacts.refs.push({
            kind: 'screenshot',
            key: stored.key,
            bytes: stored.bytes,
            contentType: stored.contentType,
          });
        }
      }
      let harText: string | undefined;
      const tracePath = attachments.find((item) => item.name === 'trace' && item.path)?.path;
      if (tracePath) {
        const zip = await readFile(tracePath).catch(() => undefined);
        if (zip) {
          if (settings.har) harText = harOfTrace(zip);
          // The kept trace is redacted first: the tokens it finds are masked in the HAR too.
          if (keepTrace) await artifacts.storeTrace(tracePath);
        }
      } else if (settings.har) {
        harText =
          plan.tracing && ended.tracesDir
            ? await harOfTracesDir(ended.tracesDir)
            : await readFile(ended.harPath, 'utf8').catch(() => undefined);
      }
      if (harText) {
        for (const peer of peersOfHar(harText)) observations.peers.push(peer);
        await artifacts.storeHar(harText);
      }
      // The worker's output is read: the next run may clear it.
      await release?.(true);
      release = undefined;

      if (ended.timedOut)
        return finishJourneyRun(
          run,
          'fail',
          errorOf('TIMEOUT', `${name}${stepPrefix}: journey timeout of ${journey.timeout} ms exceeded`),
        );
      if (!testEnd)
        return finishJourneyRun(
          run,
          'error',
          errorOf(
            'INTERNAL',
            `${name}: the test did not run: ${oneLine(ended.notRun ?? 'no result from Playwright Test')}`,
          ),
        );
      if (testEnd.status === 'passed') return finishJourneyRun(run, 'pass');
      const message = collector.firstStepError ?? testEnd.errors[0] ?? `test ${testEnd.status}`;
      const code = testEnd.status === 'timedOut' ? 'TIMEOUT' : journeyErrorCode(errorOfText(message));
      return finishJourneyRun(run, 'fail', errorOf(code, `${name}${stepPrefix}: ${oneLine(message)}`));
    } catch (error) {
      await release?.(false);
      if (error instanceof Error && /^the Playwright Test worker /.test(error.message))
        return finishJourneyRun(
          run,
          'error',
          errorOf('INTERNAL', `${name}: the test did not run: ${oneLine(error.message)}`),
        );
      throw error;
    }
  });
}

/**
 * The wrapper settings of the plan's run. A traced run under the runner is traced `on`: its
 * HAR and peers come from the zipped trace, as the runner removes the browser's trace logs.
 * A warm worker's are `retain-on-failure` unless the trace is always kept: a passing run is
 * not zipped, and its HAR comes from the logs the worker keeps (harOfTracesDir).
 */
function wrapperOf(plan: SpecRunPlan, warm: boolean) {
  const { settings, extraBrowserArgs } = plan.options;
  const traced = warm && settings.trace !== 'on' ? ('retain-on-failure' as const) : ('on' as const);
  return {
    userConfig: plan.journey.spec.configFile,
    trace: { mode: plan.tracing ? traced : ('off' as const), screenshots: settings.traceScreenshots },
    testTimeoutMs: Math.max(1000, plan.journey.timeout - TEST_TIMEOUT_MARGIN_MS),
    executablePath: resolveExecutablePath(settings),
    args: [...(settings.args ?? DEFAULT_CHROMIUM_ARGS), ...(extraBrowserArgs ?? [])],
    headless: settings.headless,
  };
}

/** The process environment of a run's Playwright Test: pathwatch's, the journey's values, the compile cache. */
function processEnvOf(plan: SpecRunPlan): Record<string, string | undefined> {
  return {
    ...process.env,
    ...plan.env,
    FORCE_COLOR: '0',
    // Playwright's compiled specs stay cached across runs (its default is under TMPDIR).
    PWTEST_CACHE_DIR: join(processTempDir(), 'playwright-transform-cache'),
  };
}

function workerSettings(plan: SpecRunPlan, script: string): SpecWorkerSettings {
  return {
    script,
    cwd: dirname(plan.journey.spec.configFile),
    projectId: plan.journey.spec.projectId,
    wrapper: { ...wrapperOf(plan, true), har: !plan.tracing && plan.options.settings.har },
    env: processEnvOf(plan),
  };
}

/**
 * Which warm workers can run the plan: those of its suite and project, started with the same
 * wrapper and the same secret and param values (the config and the specs may read them when
 * they load). The values are hashed, not kept in the key.
 */
function workerKey(plan: SpecRunPlan, script: string): string {
  const values = createHash('sha256')
    .update(JSON.stringify(Object.entries(plan.env).sort()))
    .digest('hex');
  return JSON.stringify([
    script,
    plan.journey.spec.configFile,
    plan.journey.spec.projectId,
    wrapperOf(plan, true),
    !plan.tracing && plan.options.settings.har,
    values,
  ]);
}

/** One run in a child `playwright test` limited to the test, with pathwatch's reporter. */
async function runUnderRunner(plan: SpecRunPlan, workDir: string): Promise<SpecExecution> {
  const { journey, options } = plan;
  const outputDir = join(workDir, 'out');
  const eventsFile = join(workDir, 'events.jsonl');
  const harPath = join(workDir, 'network.har');
  const wrapper = join(workDir, 'pathwatch.config.mjs');
  await mkdir(join(workDir, 'tmp'));
  await writeSpecWrapperConfig(wrapper, {
    ...wrapperOf(plan, false),
    outputDir,
    eventsFile,
    ...(!plan.tracing && options.settings.har ? { harPath } : {}),
  });
  const ended = await runChild(
    [
      playwrightTestCli(),
      'test',
      '-c',
      wrapper,
      `--project=${journey.spec.project}`,
      `--grep=${escapeRegex(journey.spec.titlePath.at(-1) ?? '')}`,
      `${journey.spec.file}:${journey.spec.line}`,
    ],
    {
      cwd: dirname(journey.spec.configFile),
      // Chromium's profile and sockets in the run's dir: gone with it, however the child ends.
      env: { ...processEnvOf(plan), TMPDIR: join(workDir, 'tmp') },
      deadlineMs: journey.timeout,
      signal: options.signal,
    },
  );
  const events = parseSpecEvents(await readFile(eventsFile, 'utf8').catch(() => ''));
  for (const event of events) plan.onEvent(event);
  const runEnd = events.find(
    (event): event is Extract<SpecEvent, { type: 'run-end' }> => event.type === 'run-end',
  );
  const notRun =
    runEnd?.errors[0] ?? (ended.stderr.trim() || `playwright test exited with code ${ended.code}`);
  return { timedOut: ended.timedOut, cancelled: ended.cancelled, notRun, harPath };
}

/**
 * The reporter's top-level steps as pathwatch steps, told to `onStep` as they come:
 * Playwright's own "After Hooks" and "Worker Cleanup" only when they failed.
 */
class SpecStepCollector {
  testEnd: TestEnd | undefined;
  /** The first failed step's error as Playwright Test gave it (its name still in front). */
  firstStepError: string | undefined;
  private open: Extract<SpecEvent, { type: 'step-begin' }> | undefined;

  constructor(
    private readonly steps: JourneyStepResult[],
    private readonly onStep?: (event: StepEvent) => void,
  ) {}

  add(event: SpecEvent): void {
    if (event.type === 'test-end') this.testEnd = event;
    if (event.type === 'step-begin') {
      this.open = event;
      if (!HOOK_STEPS.has(event.title))
        this.onStep?.({ type: 'start', index: this.steps.length + 1, name: event.title });
    }
    if (event.type !== 'step-end') return;
    this.open = undefined;
    if (HOOK_STEPS.has(event.title) && event.error === undefined) return;
    if (event.error !== undefined) this.firstStepError ??= event.error;
    const step: JourneyStepResult = {
      name: event.title,
      startedAt: event.startedAt,
      durationMs: Math.round(event.durationMs),
      status: event.error === undefined ? 'pass' : 'fail',
      ...(event.error !== undefined ? { error: oneLine(event.error) } : {}),
    };
    this.steps.push(step);
    this.onStep?.({ type: 'end', index: this.steps.length, step });
  }

  /** A step begun and never ended: the run was stopped inside it. */
  finish(): void {
    if (!this.open) return;
    this.steps.push({
      name: this.open.title,
      startedAt: this.open.startedAt,
      durationMs: Date.now() - this.open.startedAt,
      status: 'fail',
    });
    this.open = undefined;
  }
}

/** The HAR of a Playwright trace's zip: the network logs of every context of the test. */
function harOfTrace(zip: Uint8Array): string | undefined {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip);
  } catch {
    return undefined;
  }
  return harOfTraceLogs(Object.entries(entries).map(([name, bytes]) => [name, () => strFromU8(bytes)]));
}

/** The HAR of the traces a warm worker's browser recorded in the run and did not zip (it passed). */
async function harOfTracesDir(dir: string): Promise<string | undefined> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const logs = await Promise.all(
    names
      .filter((name) => name.endsWith('.network') || name.endsWith('.trace'))
      // Of a `.trace` log (DOM snapshots, megabytes) only its head is read: the browser's version.
      .map(
        async (name) =>
          [name, await (name.endsWith('.trace') ? readHead : readText)(join(dir, name))] as const,
      ),
  );
  return harOfTraceLogs(logs.map(([name, text]) => [name, () => text]));
}

function readText(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

async function readHead(path: string): Promise<string> {
  const file = await open(path, 'r').catch(() => undefined);
  if (!file) return '';
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4096), 0, 4096, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}

/** One HAR of the `.network` logs, for the browser the first `.trace` log names. */
function harOfTraceLogs(logs: Array<[string, () => string]>): string | undefined {
  const network = logs
    .filter(([name]) => name.endsWith('.network'))
    .map(([, text]) => text())
    .join('\n');
  const trace = logs.find(([name]) => name.endsWith('.trace'));
  const version = trace ? /"browserVersion":"([^"]+)"/.exec(trace[1]().slice(0, 4096))?.[1] : undefined;
  return network.trim() ? harFromTraceNetwork(network, version ?? 'unknown') : undefined;
}

/** The servers the test talked to (ip:port), once each, from the HAR's entries. */
function peersOfHar(harText: string): Array<{ ip: string; port: number }> {
  const peers: Array<{ ip: string; port: number }> = [];
  let entries: Array<{ serverIPAddress?: string; _serverPort?: number; request?: { url?: string } }> = [];
  try {
    entries = JSON.parse(harText).log?.entries ?? [];
  } catch {
    return peers;
  }
  for (const entry of entries) {
    const ip = entry.serverIPAddress?.replace(/^\[|\]$/g, '');
    if (!ip) continue;
    let port = entry._serverPort;
    if (port === undefined && entry.request?.url) {
      const url = new URL(entry.request.url);
      port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    }
    if (port !== undefined && !peers.some((peer) => peer.ip === ip && peer.port === port))
      peers.push({ ip, port });
  }
  return peers;
}

type ChildEnd = { code: number | null; stderr: string; timedOut: boolean; cancelled: boolean };

/**
 * Runs the child in its own process group, stopped at the deadline or on abort: SIGTERM
 * (Playwright closes its browser), then SIGKILL for the group past a short grace.
 */
function runChild(
  args: string[],
  options: { cwd: string; env: Record<string, string | undefined>; deadlineMs: number; signal?: AbortSignal },
): Promise<ChildEnd> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    let stderr = '';
    let timedOut = false;
    let cancelled = false;
    let killTimer: NodeJS.Timeout | undefined;
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 65_536) stderr += chunk.toString('utf8');
    });
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        // the group is gone
      }
    };
    const stop = () => {
      signalGroup('SIGTERM');
      killTimer ??= setTimeout(() => signalGroup('SIGKILL'), STOP_GRACE_MS);
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.deadlineMs);
    const onAbort = () => {
      cancelled = true;
      stop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.on('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(deadline);
      if (killTimer) clearTimeout(killTimer);
      // Whatever the runner left in its group (a browser it could not close) goes too.
      signalGroup('SIGKILL');
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ code, stderr, timedOut, cancelled });
    });
  });
}
