import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import { DEFAULT_BROWSER_SETTINGS } from '../../src/journeys/browser-settings.ts';
import type { StepEvent } from '../../src/journeys/journey-step-result.ts';
import { loadSpecJourneys } from '../../src/journeys/specs/load-spec-journeys.ts';
import { runSpecTest } from '../../src/journeys/specs/run-spec-test.ts';
import type { ResolvedSpecJourney } from '../../src/journeys/specs/spec-journey.ts';
import { SpecWorkerPool } from '../../src/journeys/specs/spec-worker-pool.ts';
import { processTempDir } from '../../src/util/process-temp-dir.ts';
import { logSpecRunners } from '../../workers/log-spec-runners.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';

const repo = new URL('../..', import.meta.url).pathname;
const suite = 'test/fixtures/playwright-warm-suite';
const work = mkdtempSync(join(tmpdir(), 'pathwatch-warm-worker-'));
const artifacts = new FilesystemArtifactStore(join(work, 'artifacts'));
const settings = { ...DEFAULT_BROWSER_SETTINGS, trace: 'retain-on-failure' as const, har: true };
let shop: DemoShop;

before(async () => {
  shop = await startDemoShop();
  process.env.DEMO_SHOP_URL = shop.url;
  process.env.WARM_TOKEN_A = 'token-of-a';
  process.env.WARM_TOKEN_B = 'token-of-b';
});

after(async () => {
  await shop.close();
  rmSync(work, { recursive: true, force: true });
});

type Entry = Record<string, unknown>;

/** The suite's journeys for the given `playwright` entries, with a config to run them with. */
async function journeysOf(entries: Entry[], dir = repo) {
  const config = await parseConfig(
    { locations: { inside: {} }, playwright: entries },
    join(dir, 'pathwatch.yaml'),
  );
  const { journeys, issues } = await loadSpecJourneys(config, new Set());
  assert.deepEqual(issues, []);
  const byTitle = (title: string) => {
    const found = journeys.find((journey) => journey.spec.titlePath.at(-1) === title);
    assert.ok(found, `journey "${title}"`);
    return found;
  };
  return { config, byTitle };
}

function notesFile(name: string): string {
  return join(work, `${name}.notes`);
}

/** The notes the runs wrote: one `<pid> <token>` line a run. */
function notes(name: string): Array<[number, string]> {
  const file = notesFile(name);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [pid, token] = line.split(' ');
      return [Number(pid), token];
    });
}

/** Processes whose command line lies in a warm worker's dir: the worker's Chromium, its helpers. */
function processesInWorkerDirs(): string[] {
  const marker = `${processTempDir()}/sw-`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
        return cmdline.includes(marker) ? [`${pid}: ${cmdline.slice(0, 120)}`] : [];
      } catch {
        return [];
      }
    });
}

async function noProcessesInWorkerDirs(): Promise<void> {
  for (let attempt = 0; attempt < 50 && processesInWorkerDirs().length > 0; attempt++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(processesInWorkerDirs(), [], 'no process of a stopped worker is left');
}

function run(
  journey: ResolvedSpecJourney,
  config: Awaited<ReturnType<typeof journeysOf>>['config'],
  specWorkers: SpecWorkerPool,
  extra: { onStep?: (event: StepEvent) => void; signal?: AbortSignal } = {},
) {
  return runSpecTest(journey, {
    artifacts,
    secrets: config.secrets,
    settings,
    location: 'inside',
    extraBrowserArgs: LOOPBACK_ONLY_CHROMIUM_ARGS,
    specWorkers,
    ...extra,
  });
}

test('runs of a spec share one warm worker, started once; its steps are told as they happen', async () => {
  const { config, byTitle } = await journeysOf([
    {
      config: `${suite}/playwright.config.ts`,
      grep: 'notes its worker$',
      params: { NOTES: notesFile('shared') },
    },
  ]);
  const journey = byTitle('notes its worker');
  assert.deepEqual(journey.spec.needsRunner, []);
  const logged: string[] = [];
  logSpecRunners([journey], pino({}, { write: (line: string) => logged.push(line) }), 'inside');
  assert.deepEqual(logged, [], 'a journey that runs warm is not reported at start');
  const pool = new SpecWorkerPool();
  const heard: string[] = [];
  try {
    for (let index = 0; index < 3; index++) {
      const result = await run(journey, config, pool, {
        onStep: (event) =>
          heard.push(`${event.type} ${event.type === 'start' ? event.name : event.step.name}`),
      });
      assert.equal(result.status, 'pass', result.error?.message);
      assert.deepEqual(
        result.steps?.map((step) => step.name),
        ['Before Hooks', 'note the worker', 'open the shop'],
      );
      assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: Number(new URL(shop.url).port) }]);
      assert.deepEqual(
        result.artifacts?.map((artifact) => artifact.kind),
        ['har'],
      );
    }
    const pids = notes('shared').map(([pid]) => pid);
    assert.equal(pids.length, 3);
    assert.equal(new Set(pids).size, 1, `one worker process ran every run (pids ${pids.join(', ')})`);
    assert.notEqual(pids[0], process.pid);
    assert.deepEqual(heard.slice(0, 6), [
      'start Before Hooks',
      'end Before Hooks',
      'start note the worker',
      'end note the worker',
      'start open the shop',
      'end open the shop',
    ]);
  } finally {
    await pool.close();
  }
  await noProcessesInWorkerDirs();
});

test("a journey's secrets and params stay with its own worker", async () => {
  const { config, byTitle } = await journeysOf([
    {
      config: `${suite}/playwright.config.ts`,
      grep: 'notes its worker$',
      params: { NOTES: notesFile('a') },
      secrets: { TOKEN: '${env:WARM_TOKEN_A}' },
    },
    {
      config: `${suite}/playwright.config.ts`,
      grep: 'notes its worker too',
      params: { NOTES: notesFile('b') },
      secrets: { TOKEN: '${env:WARM_TOKEN_B}' },
    },
  ]);
  const pool = new SpecWorkerPool();
  try {
    for (const title of ['notes its worker', 'notes its worker too', 'notes its worker']) {
      const result = await run(byTitle(title), config, pool);
      assert.equal(result.status, 'pass', result.error?.message);
    }
  } finally {
    await pool.close();
  }
  const a = notes('a');
  const b = notes('b');
  assert.deepEqual(
    a.map(([, token]) => token),
    ['token-of-a', 'token-of-a'],
  );
  assert.deepEqual(
    b.map(([, token]) => token),
    ['token-of-b'],
  );
  assert.equal(a[0][0], a[1][0], "a's runs share a worker");
  assert.notEqual(a[0][0], b[0][0], 'b runs in a worker of its own');
});

test('a failed run is reported at its step and retires its worker: the next run starts a new one', async () => {
  const { config, byTitle } = await journeysOf([
    { config: `${suite}/playwright.config.ts`, grep: 'fails at', params: { NOTES: notesFile('failing') } },
  ]);
  const journey = byTitle('fails at its second step');
  const pool = new SpecWorkerPool();
  try {
    for (let index = 0; index < 2; index++) {
      const result = await run(journey, config, pool);
      assert.equal(result.status, 'fail');
      assert.equal(result.error?.code, 'ASSERTION');
      assert.match(
        result.error?.message ?? '',
        /^journey "warm-fails-at-its-second-step" step 3 "find the teapot": the shop sells no teapot/,
      );
      assert.deepEqual(result.artifacts?.map((artifact) => artifact.kind).sort(), [
        'har',
        'screenshot',
        'trace',
      ]);
    }
    const pids = notes('failing').map(([pid]) => pid);
    assert.equal(pids.length, 2);
    assert.notEqual(pids[0], pids[1], 'the failed worker was not reused');
  } finally {
    await pool.close();
  }
  await noProcessesInWorkerDirs();
});

test('a hung test is killed with its Chromium at the journey deadline; a cancelled one at once', async () => {
  const { config, byTitle } = await journeysOf([
    {
      config: `${suite}/playwright.config.ts`,
      grep: 'hangs',
      timeout: '5s',
      params: { NOTES: notesFile('hung') },
    },
  ]);
  const journey = byTitle('hangs');
  const pool = new SpecWorkerPool();
  try {
    const timedOut = await run(journey, config, pool);
    assert.equal(timedOut.status, 'fail');
    assert.equal(timedOut.error?.code, 'TIMEOUT');
    assert.equal(
      timedOut.error?.message,
      'journey "warm-hangs" step 3 "wait forever": journey timeout of 5000 ms exceeded',
    );
    await noProcessesInWorkerDirs();

    const controller = new AbortController();
    const cancelled = await run(journey, config, pool, {
      signal: controller.signal,
      onStep: (event) => {
        if (event.type === 'start' && event.name === 'wait forever')
          controller.abort(new Error('the test stops it'));
      },
    });
    assert.equal(cancelled.status, 'error');
    assert.equal(cancelled.error?.code, 'CANCELLED');
    assert.match(cancelled.error?.message ?? '', /step 3 "wait forever": cancelled: the test stops it$/);
    await noProcessesInWorkerDirs();
    assert.equal(new Set(notes('hung').map(([pid]) => pid)).size, 2, 'the cancelled run had a new worker');
  } finally {
    await pool.close();
  }
});

test("a suite with a global setup runs every time under Playwright Test's runner, which runs the setup", async () => {
  const { config, byTitle } = await journeysOf([
    {
      config: `${suite}/global.config.ts`,
      grep: 'notes its worker$',
      params: { NOTES: notesFile('global') },
    },
  ]);
  const journey = byTitle('notes its worker');
  assert.deepEqual(journey.spec.needsRunner, ['globalSetup']);
  // The journey worker says so at start: each run costs a runner, which an operator should know.
  const logged: string[] = [];
  logSpecRunners([journey], pino({}, { write: (line: string) => logged.push(line) }), 'inside');
  assert.deepEqual(
    logged.map((line) => JSON.parse(line).msg),
    [
      `journey "warm-notes-its-worker" runs under Playwright Test's runner every time: its suite uses globalSetup`,
    ],
  );
  const pool = new SpecWorkerPool();
  try {
    for (let index = 0; index < 2; index++) {
      const result = await run(journey, config, pool);
      assert.equal(result.status, 'pass', result.error?.message);
    }
  } finally {
    await pool.close();
  }
  const lines = readFileSync(notesFile('global'), 'utf8').trim().split('\n');
  assert.equal(lines.filter((line) => line === 'global setup').length, 2, lines.join(' | '));
  const pids = lines.filter((line) => line !== 'global setup').map((line) => line.split(' ')[0]);
  assert.notEqual(pids[0], pids[1], 'each run had its own runner and worker');
});

test('a test renamed after its suite was listed is named as not found, not run', async () => {
  // A copy inside the checkout, so that the suite resolves @playwright/test as the original does.
  mkdirSync(join(repo, 'test-artifacts'), { recursive: true });
  const copy = mkdtempSync(join(repo, 'test-artifacts', 'warm-suite-'));
  try {
    cpSync(join(repo, suite), copy, { recursive: true });
    const { config, byTitle } = await journeysOf(
      [{ config: 'playwright.config.ts', grep: 'notes its worker$' }],
      copy,
    );
    const journey = byTitle('notes its worker');
    const spec = join(copy, 'tests', 'warm.spec.ts');
    writeFileSync(
      spec,
      readFileSync(spec, 'utf8').replace("test('notes its worker',", "test('notes its process',"),
    );
    const pool = new SpecWorkerPool();
    try {
      const result = await run(journey, config, pool);
      assert.equal(result.status, 'error');
      assert.equal(result.error?.code, 'INTERNAL');
      assert.equal(
        result.error?.message,
        'journey "warm-notes-its-worker": the test did not run: Playwright Test no longer finds the test (its file or titles changed since the suite was listed; restart pathwatch to list it again)',
      );
    } finally {
      await pool.close();
    }
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});
