import { type ChildProcess, fork } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { processTempDir } from '../../util/process-temp-dir.ts';
import type { SpecEvent } from './spec-events.ts';
import { type SpecWrapperSettings, writeSpecWrapperConfig } from './write-spec-wrapper-config.ts';

/** What a warm worker is started with; runs that need anything else get another worker. */
export interface SpecWorkerSettings {
  /** Playwright Test's worker process script (playwright-worker-entry.ts). */
  script: string;
  /** The suite's folder: the worker's working directory, as under `playwright test`. */
  cwd: string;
  /** Playwright's id of the project the worker runs tests of. */
  projectId: string;
  /** The suite's config overrides, without the per-run paths the worker keeps itself. */
  wrapper: Omit<SpecWrapperSettings, 'outputDir' | 'eventsFile' | 'harPath'> & { har: boolean };
  /** The process environment: pathwatch's, plus the journey's PATHWATCH_SECRET_/PARAM_ values. */
  env: Record<string, string | undefined>;
}

export interface SpecWorkerRunOptions {
  /** The hard deadline of the run: past it the worker and its Chromium are killed. */
  deadlineMs: number;
  /** Aborting kills the worker and its Chromium at once. */
  signal?: AbortSignal;
  /** Each top-level step's begin and end and the test's end, as they happen. */
  onEvent: (event: SpecEvent) => void;
}

export interface SpecWorkerRunEnd {
  timedOut: boolean;
  cancelled: boolean;
  /** Why no test ended, when none did: the worker's fatal error, or how it exited. */
  notRun?: string;
  /** Whether the worker can run another test: it lives, and nothing failed in it. */
  reusable: boolean;
}

/** Longest a worker may take to start (load Playwright) and say it is ready. */
const START_DEADLINE_MS = 60_000;
/** After `__stop__`, how long the worker may take to close its browser before it is killed. */
const STOP_GRACE_MS = 5_000;
/** Steps Playwright reports at the top level that become pathwatch steps: the spec's and its hooks. */
const STEP_CATEGORIES = new Set(['test.step', 'hook']);

interface ErrorPayload {
  message?: string;
  value?: string;
}

function messageOf(error: ErrorPayload | undefined): string | undefined {
  if (!error) return undefined;
  return error.message ?? error.value ?? 'unknown error';
}

type Dispatched = { method: string; params: Record<string, unknown> };

interface CurrentRun {
  testId: string;
  options: SpecWorkerRunOptions;
  steps: Map<string, { title: string; category: string; startedAt: number }>;
  attachments: Array<{ name: string; contentType: string; path?: string }>;
  testEnded: boolean;
  passed: boolean;
  finish: (end: SpecWorkerRunEnd) => void;
}

/**
 * One Playwright Test worker process kept warm between runs, so that a monitored spec costs
 * what the test itself costs: no runner process, no new worker, and the browser (a
 * worker-scoped fixture, as in any Playwright Test run) launched once. pathwatch plays the
 * part of Playwright's dispatcher: it starts Playwright's own worker script with the suite's
 * config (wrapped as for `playwright test`), and asks it to run one test by its id at a
 * time; fixtures, hooks, `use` options and `expect` are Playwright Test's own.
 *
 * A worker in which a test failed is not reused: Playwright tears its worker fixtures down
 * after a failure, as its dispatcher then starts a new worker. Its temp dir holds the
 * config, the tests' output and Chromium's TMPDIR, and goes with it.
 */
export class SpecWorker {
  runs = 0;
  private child: ChildProcess | undefined;
  private current: CurrentRun | undefined;
  private stderr = '';
  private exited: string | undefined;
  private lastId = 0;

  private constructor(
    readonly dir: string,
    private readonly settings: SpecWorkerSettings,
  ) {}

  /** Where the worker's tests write their output (trace, screenshot): cleared before each run. */
  get outputDir(): string {
    return join(this.dir, 'out');
  }

  /**
   * Where the browser writes the traces it records (Playwright Test's artifacts dir): a
   * passing run's trace is not zipped, and its network log here is its HAR.
   */
  get tracesDir(): string {
    return join(this.dir, 'artifacts', 'traces');
  }

  /** The HAR of an untraced run (`har` on), written when its context closes. */
  get harPath(): string {
    return join(this.dir, 'network.har');
  }

  /** Starts the worker and waits until it is ready; throws with what it printed if it is not. */
  static async start(settings: SpecWorkerSettings): Promise<SpecWorker> {
    const dir = await mkdtemp(join(processTempDir(), 'sw-'));
    const worker = new SpecWorker(dir, settings);
    try {
      await worker.spawn();
    } catch (error) {
      await worker.stop();
      throw error;
    }
    return worker;
  }

  /** Whether the process still runs (a crashed or killed worker is not reused). */
  get alive(): boolean {
    return this.child !== undefined && this.exited === undefined;
  }

  /** Runs one test of the worker's project by Playwright's id, bounded by the deadline. */
  run(test: { file: string; testId: string }, options: SpecWorkerRunOptions): Promise<SpecWorkerRunEnd> {
    if (this.current) throw new Error('a spec worker runs one test at a time');
    this.runs++;
    return new Promise<SpecWorkerRunEnd>((resolve) => {
      let settled = false;
      const run: CurrentRun = {
        testId: test.testId,
        options,
        steps: new Map(),
        attachments: [],
        testEnded: false,
        passed: false,
        finish: (end) => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          options.signal?.removeEventListener('abort', onAbort);
          this.current = undefined;
          resolve(end);
        },
      };
      const kill = (why: 'timedOut' | 'cancelled') => {
        this.killGroup();
        run.finish({ timedOut: why === 'timedOut', cancelled: why === 'cancelled', reusable: false });
      };
      const deadline = setTimeout(() => kill('timedOut'), options.deadlineMs);
      const onAbort = () => kill('cancelled');
      if (options.signal?.aborted) return kill('cancelled');
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.current = run;
      if (!this.alive) return run.finish({ ...this.ended(), reusable: false });
      void this.clearOutput().then(() => {
        if (settled) return;
        this.send({
          method: '__dispatch__',
          params: {
            id: ++this.lastId,
            method: 'runTestGroup',
            params: { file: test.file, entries: [{ testId: test.testId, retry: 0, planAnnotations: [] }] },
          },
        });
      });
    });
  }

  /**
   * Asks the worker to tear its fixtures down and close its browser, kills it (and whatever
   * it started) past a short grace, and removes its temp dir.
   */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && this.exited === undefined) {
      const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      this.send({ method: '__stop__' });
      const timer = setTimeout(() => this.killGroup(), STOP_GRACE_MS);
      await exit;
      clearTimeout(timer);
    }
    // Whatever the worker left in its group (a browser it could not close) goes too.
    this.killGroup();
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  private async spawn(): Promise<void> {
    const { settings } = this;
    await Promise.all(['out', 'artifacts', 'tmp'].map((name) => mkdir(join(this.dir, name))));
    const config = join(this.dir, 'pathwatch.config.mjs');
    const { har, ...wrapper } = settings.wrapper;
    await writeSpecWrapperConfig(config, {
      ...wrapper,
      outputDir: this.outputDir,
      ...(har ? { harPath: this.harPath } : {}),
    });
    const child = fork(settings.script, [], {
      cwd: settings.cwd,
      env: {
        ...settings.env,
        PLAYWRIGHT_TEST: '1',
        FORCE_COLOR: '0',
        // Chromium's profile and sockets in the worker's dir: gone with it, however it ends.
        TMPDIR: join(this.dir, 'tmp'),
      },
      // Not this process's loader flags (tsx): Playwright installs its own transform.
      execArgv: [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Its own process group, so that a kill takes its Chromium with it.
      detached: true,
    });
    this.child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 65_536) this.stderr += chunk.toString('utf8');
    });
    child.on('error', () => {});
    child.on('exit', (code, signal) => {
      this.exited = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const run = this.current;
      if (run) run.finish({ ...this.ended(), reusable: false });
    });
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`the Playwright Test worker was not ready within ${START_DEADLINE_MS / 1000} s`)),
        START_DEADLINE_MS,
      );
      child.on('message', (message: { method?: string; params?: unknown }) => {
        if (message.method === 'ready') {
          clearTimeout(timer);
          resolve();
        } else this.onMessage(message);
      });
      child.once('exit', () => {
        clearTimeout(timer);
        reject(new Error(`the Playwright Test worker ${this.ended().notRun}`));
      });
    });
    await ready;
    this.send({
      method: '__init__',
      params: {
        processParams: { timeOrigin: performance.timeOrigin },
        runnerParams: {
          workerIndex: 0,
          parallelIndex: 0,
          repeatEachIndex: 0,
          projectId: settings.projectId,
          config: { location: { configDir: this.dir, resolvedConfigFile: config }, configCLIOverrides: {} },
          artifactsDir: join(this.dir, 'artifacts'),
        },
      },
    });
  }

  private ended(): { timedOut: false; cancelled: false; notRun: string } {
    const printed = this.stderr.trim().split('\n').find(Boolean);
    return {
      timedOut: false,
      cancelled: false,
      notRun: `${this.exited ?? 'is not running'}${printed ? `: ${printed}` : ''}`,
    };
  }

  private onMessage(message: { method?: string; params?: unknown }): void {
    if (message.method === '__request__') {
      // Requests Playwright's runner answers (none a single monitored test needs).
      const { id } = message.params as { id: number };
      this.send({ method: '__response__', params: { id, error: { message: 'Unknown method' } } });
      return;
    }
    if (message.method !== '__dispatch__') return;
    const dispatched = message.params as Partial<Dispatched>;
    if (!dispatched.method || !dispatched.params) return;
    const run = this.current;
    if (!run) return;
    const params = dispatched.params;
    if (params.testId !== undefined && params.testId !== run.testId) return;
    switch (dispatched.method) {
      case 'stepBegin': {
        const category = String(params.category);
        if (params.parentStepId !== undefined || !STEP_CATEGORIES.has(category)) return;
        const begin = { title: String(params.title), category, startedAt: Number(params.wallTime) };
        run.steps.set(String(params.stepId), begin);
        run.options.onEvent({ type: 'step-begin', ...begin });
        return;
      }
      case 'stepEnd': {
        const begin = run.steps.get(String(params.stepId));
        if (!begin) return;
        const error = messageOf(params.error as ErrorPayload | undefined);
        run.options.onEvent({
          type: 'step-end',
          ...begin,
          durationMs: Number(params.wallTime) - begin.startedAt,
          ...(error !== undefined ? { error } : {}),
        });
        return;
      }
      case 'attach':
        run.attachments.push({
          name: String(params.name),
          contentType: String(params.contentType),
          ...(typeof params.path === 'string' ? { path: params.path } : {}),
        });
        return;
      case 'testEnd': {
        const status = params.status as Extract<SpecEvent, { type: 'test-end' }>['status'];
        run.testEnded = true;
        run.passed = status === 'passed' || status === 'skipped';
        run.options.onEvent({
          type: 'test-end',
          status,
          durationMs: Number(params.duration),
          errors: ((params.errors as ErrorPayload[]) ?? []).map(
            (error) => messageOf(error) ?? 'unknown error',
          ),
          attachments: run.attachments,
        });
        return;
      }
      case 'done': {
        const fatal = ((params.fatalErrors as ErrorPayload[]) ?? []).map((error) => messageOf(error));
        const unknown = params.fatalUnknownTestIds as string[] | undefined;
        const notRun = run.testEnded
          ? undefined
          : unknown?.length
            ? 'Playwright Test no longer finds the test (its file or titles changed since the suite was listed; restart pathwatch to list it again)'
            : (fatal.find(Boolean) ?? 'the worker ended the run without running the test');
        run.finish({
          timedOut: false,
          cancelled: false,
          ...(notRun !== undefined ? { notRun } : {}),
          reusable: run.passed && fatal.length === 0 && this.alive,
        });
        return;
      }
    }
  }

  /** The last run's output, HAR and trace logs; not the trace resources, shared by content hash. */
  private async clearOutput(): Promise<void> {
    await rm(this.outputDir, { recursive: true, force: true });
    await rm(this.harPath, { force: true });
    const logs = await readdir(this.tracesDir).catch(() => [] as string[]);
    await Promise.all(
      logs
        .filter((name) => name !== 'resources')
        .map((name) => rm(join(this.tracesDir, name), { recursive: true, force: true })),
    );
  }

  private send(message: unknown): void {
    try {
      if (this.child?.connected) this.child.send(message as object);
    } catch {
      // the worker is gone: its exit ends the run
    }
  }

  private killGroup(): void {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group is gone
    }
  }
}
