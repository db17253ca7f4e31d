import { spawn } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
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
import { parseSpecEvents, type SpecEvent } from './spec-events.ts';
import type { SpecJourney } from './spec-journey.ts';
import { writeSpecWrapperConfig } from './write-spec-wrapper-config.ts';

export interface RunSpecTestOptions extends JourneyAttemptOptions {
  settings: BrowserSettings;
  /** Extra Chromium flags (tests keep Chromium on loopback). */
  extraBrowserArgs?: string[];
}

/** Playwright's test timeout is this far below the hard deadline, so a timed-out test still writes its trace. */
const TEST_TIMEOUT_MARGIN_MS = 5000;
/** After SIGTERM, how long the runner may take to close its browser before the group is killed. */
const STOP_GRACE_MS = 2000;
/** Steps Playwright adds around the test: kept when they fail (a hook, a fixture), else left out. */
const HOOK_STEPS = new Set(['After Hooks', 'Worker Cleanup']);

/** Playwright Test's error text, as one line, without the `Error: ` it prefixes to a thrown error's message. */
function oneLine(message: string): string {
  return compactPlaywrightMessage(message).replace(/^Error: /, '');
}

function specEnvName(prefix: string, name: string): string {
  return `${prefix}${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

/** Escapes a title for `--grep`, anchored to the test's own title at the end of the line. */
function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

type ChildEnd = { code: number | null; stderr: string; timedOut: boolean; cancelled: boolean };

/**
 * Runs one test of a Playwright Test suite once, in a child `playwright test` limited to it
 * (its file:line, its title, its project), with a wrapper config (write-spec-wrapper-config.ts)
 * and pathwatch's reporter, and always returns a RunResult like a journey's: the test's
 * `test.step()`s are the steps ("Before Hooks", its fixtures and beforeEach, is the first),
 * the failing step and Playwright's message, the trace (kept as `settings.trace` says),
 * failure screenshot and a HAR built from the trace, peers from the HAR, all masked.
 * Secrets and params reach the test as PATHWATCH_SECRET_<NAME> and PATHWATCH_PARAM_<NAME>.
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

    const env: Record<string, string | undefined> = { ...process.env };
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

    const tracing = tracesAttempt(settings.trace, options.attempt);
    const outputDir = join(workDir, 'out');
    const eventsFile = join(workDir, 'events.jsonl');
    const harPath = join(workDir, 'network.har');
    const wrapper = join(workDir, 'pathwatch.config.mjs');
    await mkdir(join(workDir, 'tmp'));
    await writeSpecWrapperConfig(wrapper, {
      userConfig: journey.spec.configFile,
      outputDir,
      eventsFile,
      // Traced every run it is traced at all: a passing run's HAR and peers come from the trace.
      trace: tracing ? 'on' : 'off',
      ...(!tracing && settings.har ? { harPath } : {}),
      testTimeoutMs: Math.max(1000, journey.timeout - TEST_TIMEOUT_MARGIN_MS),
      executablePath: resolveExecutablePath(settings),
      args: [...(settings.args ?? DEFAULT_CHROMIUM_ARGS), ...(options.extraBrowserArgs ?? [])],
      headless: settings.headless,
    });
    Object.assign(env, {
      FORCE_COLOR: '0',
      // Chromium's profile and sockets in the run's dir: gone with it, however the child ends.
      TMPDIR: join(workDir, 'tmp'),
      // Playwright's compiled specs stay cached across runs (its default is under TMPDIR).
      PWTEST_CACHE_DIR: join(processTempDir(), 'playwright-transform-cache'),
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
      { cwd: dirname(journey.spec.configFile), env, deadlineMs: journey.timeout, signal: options.signal },
    );

    const events = parseSpecEvents(await readFile(eventsFile, 'utf8').catch(() => ''));
    collectSteps(events, steps, options.onStep);
    const testEnd = events.find(
      (event): event is Extract<SpecEvent, { type: 'test-end' }> => event.type === 'test-end',
    );
    const failedStep = steps.findIndex((step) => step.status === 'fail');
    const stepPrefix = failedStep >= 0 ? ` step ${failedStep + 1} "${steps[failedStep].name}"` : '';

    if (ended.cancelled) {
      // A cancelled run keeps no evidence, as a journey's: the stop is not the target's doing.
      return finishJourneyRun(
        run,
        'error',
        errorOf('CANCELLED', `${name}${stepPrefix}: ${RunCancelledError.messageOf(options.signal?.reason)}`),
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
      harText = await readFile(harPath, 'utf8').catch(() => undefined);
    }
    if (harText) {
      for (const peer of peersOfHar(harText)) observations.peers.push(peer);
      await artifacts.storeHar(harText);
    }

    if (ended.timedOut)
      return finishJourneyRun(
        run,
        'fail',
        errorOf('TIMEOUT', `${name}${stepPrefix}: journey timeout of ${journey.timeout} ms exceeded`),
      );
    if (!testEnd) {
      const runEnd = events.find(
        (event): event is Extract<SpecEvent, { type: 'run-end' }> => event.type === 'run-end',
      );
      const why =
        runEnd?.errors[0] ?? (ended.stderr.trim() || `playwright test exited with code ${ended.code}`);
      return finishJourneyRun(
        run,
        'error',
        errorOf('INTERNAL', `${name}: the test did not run: ${oneLine(why)}`),
      );
    }
    if (testEnd.status === 'passed') return finishJourneyRun(run, 'pass');
    const message =
      (failedStep >= 0 ? steps[failedStep].error : undefined) ??
      testEnd.errors[0] ??
      `test ${testEnd.status}`;
    const code = testEnd.status === 'timedOut' ? 'TIMEOUT' : journeyErrorCode(new Error(message));
    return finishJourneyRun(run, 'fail', errorOf(code, `${name}${stepPrefix}: ${oneLine(message)}`));
  });
}

/** The reporter's top-level steps as pathwatch steps: Playwright's own "After Hooks" only when it failed. */
function collectSteps(
  events: SpecEvent[],
  steps: JourneyStepResult[],
  onStep?: (event: StepEvent) => void,
): void {
  const ends = events.filter(
    (event): event is Extract<SpecEvent, { type: 'step-end' }> => event.type === 'step-end',
  );
  for (const end of ends) {
    if (HOOK_STEPS.has(end.title) && end.error === undefined) continue;
    const step: JourneyStepResult = {
      name: end.title,
      startedAt: end.startedAt,
      durationMs: Math.round(end.durationMs),
      status: end.error === undefined ? 'pass' : 'fail',
      ...(end.error !== undefined ? { error: oneLine(end.error) } : {}),
    };
    steps.push(step);
    onStep?.({ type: 'end', index: steps.length, step });
  }
  // A step begun and never ended: the child was stopped inside it.
  const begun = events.filter((event) => event.type === 'step-begin');
  if (begun.length > ends.length) {
    const last = begun.at(-1) as Extract<SpecEvent, { type: 'step-begin' }>;
    steps.push({
      name: last.title,
      startedAt: last.startedAt,
      durationMs: Date.now() - last.startedAt,
      status: 'fail',
    });
  }
}

/** The HAR of a Playwright trace's network log (every context of the test). */
function harOfTrace(zip: Uint8Array): string | undefined {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip);
  } catch {
    return undefined;
  }
  const network = Object.keys(entries)
    .filter((entry) => entry.endsWith('.network'))
    .map((entry) => strFromU8(entries[entry]))
    .join('\n');
  const trace = Object.keys(entries).find((entry) => entry.endsWith('.trace'));
  const version = trace
    ? /"browserVersion":"([^"]+)"/.exec(strFromU8(entries[trace]).slice(0, 4096))?.[1]
    : undefined;
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
