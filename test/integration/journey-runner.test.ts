import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
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
import { strFromU8, unzipSync } from 'fflate';
import type { Browser } from 'playwright';
import type { StoredArtifact } from '../../src/artifacts/artifact-store.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { SecretResolver } from '../../src/config/secret-resolver.ts';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import { BrowserPool } from '../../src/journeys/browser-pool.ts';
import { DEFAULT_BROWSER_SETTINGS } from '../../src/journeys/browser-settings.ts';
import type { StepEvent } from '../../src/journeys/journey-step-result.ts';
import { JourneyLoadError, type LoadedJourney, loadJourney } from '../../src/journeys/load-journey.ts';
import { runJourney } from '../../src/journeys/run-journey.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { chromiumBrowserProcess, chromiumProcesses } from '../helpers/child-processes.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';

const repo = new URL('../..', import.meta.url).pathname;
const artifactsDir = mkdtempSync(join(tmpdir(), 'pathwatch-journey-artifacts-'));
const artifacts = new FilesystemArtifactStore(artifactsDir);
const secrets = new SecretResolver({}, { DEMO_SHOP_PASSWORD: 'wonderland' });
let shop: DemoShop;
let pool: BrowserPool;
let checkout: LoadedJourney;

function run(journey: LoadedJourney, onStep?: (event: StepEvent) => void): Promise<RunResult> {
  return runJourney(journey, {
    pool,
    artifacts,
    secrets,
    settings: DEFAULT_BROWSER_SETTINGS,
    location: 'test',
    onStep,
  });
}

function artifactBytes(result: RunResult, kind: string): Buffer {
  const artifact = result.artifacts?.find((candidate) => candidate.kind === kind);
  assert.ok(artifact, `the run kept a ${kind}: ${JSON.stringify(result.artifacts)}`);
  return readFileSync(join(artifactsDir, artifact.key));
}

before(async () => {
  shop = await startDemoShop();
  process.env.DEMO_SHOP_URL = shop.url; // the example journey reads it at load time
  checkout = await loadJourney(join(repo, 'journeys/checkout.journey.ts'));
  pool = new BrowserPool({ settings: DEFAULT_BROWSER_SETTINGS, extraArgs: LOOPBACK_ONLY_CHROMIUM_ARGS });
});

after(async () => {
  await pool.close();
  await shop.close();
});

test('the example checkout journey passes, step by step, with peers and a clean HAR', async () => {
  const events: string[] = [];
  const result = await run(checkout, (event) => events.push(`${event.type} ${event.index}`));
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(
    result.steps?.map((step) => [step.name, step.status]),
    [
      ['open shop', 'pass'],
      ['log in', 'pass'],
      ['add to cart', 'pass'],
      ['checkout', 'pass'],
      ['pay', 'pass'],
    ],
  );
  assert.deepEqual(events.slice(0, 4), ['start 1', 'end 1', 'start 2', 'end 2']);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: shop.port }]);
  assert.ok(!result.artifacts?.some((artifact) => artifact.kind === 'trace'), 'trace kept on failure only');
  const har = artifactBytes(result, 'har').toString();
  assert.ok(har.includes('/api/pay'), 'the HAR holds the payment request');
  assert.ok(!har.includes('wonderland'), 'the password never reaches the HAR');
});

interface Har {
  log: {
    version: string;
    pages: Array<{ id: string }>;
    entries: Array<{
      pageref?: string;
      request: { method: string; url: string };
      response: { status: number; content: Record<string, unknown> };
    }>;
  };
}

test('a traced run takes its HAR from the trace: the same requests as a HAR recorded on its own', async () => {
  const traced = await run(checkout);
  const untraced = await runJourney(checkout, {
    pool,
    artifacts,
    secrets,
    settings: { ...DEFAULT_BROWSER_SETTINGS, trace: 'off' },
    location: 'test',
  });
  assert.equal(traced.status, 'pass', traced.error?.message);
  assert.equal(untraced.status, 'pass', untraced.error?.message);
  const requests = (har: Har) =>
    har.log.entries.map((entry) => {
      const url = new URL(entry.request.url);
      return `${entry.request.method} ${url.pathname} ${entry.response.status}`;
    });
  const fromTrace = JSON.parse(artifactBytes(traced, 'har').toString()) as Har;
  const recorded = JSON.parse(artifactBytes(untraced, 'har').toString()) as Har;
  assert.equal(fromTrace.log.version, '1.2');
  assert.deepEqual(requests(fromTrace), requests(recorded));
  assert.ok(requests(fromTrace).includes('POST /api/pay 200'), requests(fromTrace).join('\n'));
  const pageIds = new Set(fromTrace.log.pages.map((page) => page.id));
  assert.ok(
    fromTrace.log.entries.every((entry) => entry.pageref && pageIds.has(entry.pageref)),
    'every entry belongs to a listed page',
  );
  assert.ok(
    fromTrace.log.entries.every((entry) => !('_file' in entry.response.content)),
    'no pointers into the trace',
  );

  // The runs' trace files are removed as they end; the directory goes with the browser.
  const browser = await pool.acquire();
  const tracesDir = pool.tracesDirOf(browser);
  await pool.release(browser);
  assert.ok(tracesDir && existsSync(tracesDir));
  assert.deepEqual(
    readdirSync(tracesDir).filter((name) => name.startsWith('pathwatch-')),
    [],
    'no trace files of ended runs are left',
  );
});

test('with the pay button broken the journey fails at step "pay", with a trace grouped by step, a screenshot and a clean HAR', async () => {
  shop.faults.brokenPayButton = true;
  let result: RunResult;
  try {
    result = await run(checkout);
  } finally {
    shop.faults.brokenPayButton = false;
  }
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'ASSERTION');
  assert.match(
    result.error?.message ?? '',
    /^journey "checkout" step 5 "pay": expect\(locator\)\.toBeVisible\(\) failed; Locator: getByRole\('heading', \{ name: 'Thank you for your order' \}\); Expected: visible; .*Error: element\(s\) not found/,
  );
  assert.equal(result.steps?.at(-1)?.status, 'fail', JSON.stringify(result.steps));

  const png = artifactBytes(result, 'screenshot');
  assert.deepEqual(
    [...png.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    'the screenshot is a PNG',
  );

  const trace = unzipSync(artifactBytes(result, 'trace'));
  assert.ok(trace['trace.trace'] && trace['trace.network'], 'a Playwright trace zip');
  const events = strFromU8(trace['trace.trace'])
    .split('\n')
    .filter(Boolean)
    .map(
      (line) =>
        JSON.parse(line) as {
          type: string;
          callId?: string;
          parentId?: string;
          method?: string;
          title?: string;
          params?: Record<string, unknown>;
        },
    );
  const groups = events.filter((event) => event.type === 'before' && event.method === 'tracingGroup');
  assert.deepEqual(
    groups.map((group) => group.title),
    ['open shop', 'log in', 'add to cart', 'checkout', 'pay'],
  );
  const payGroup = groups.at(-1)!;
  const payActions = events
    .filter((event) => event.type === 'before' && event.parentId === payGroup.callId)
    .map((event) => event.method);
  assert.deepEqual(payActions, ['click', 'expect'], 'the pay step holds its click and its assertion');
  for (const [name, bytes] of Object.entries(trace)) {
    assert.ok(!Buffer.from(bytes).includes('wonderland'), `no password in trace entry ${name}`);
  }

  const har = JSON.parse(artifactBytes(result, 'har').toString()) as {
    log: {
      entries: Array<{
        request: { headers: Array<{ name: string; value: string }> };
        response: { headers: Array<{ name: string; value: string }> };
      }>;
    };
  };
  const cookieHeaders = har.log.entries.flatMap((entry) =>
    [...entry.request.headers, ...entry.response.headers].filter((header) =>
      /^(set-)?cookie$/i.test(header.name),
    ),
  );
  assert.ok(cookieHeaders.length > 0, 'the shop did set a session cookie');
  assert.ok(
    cookieHeaders.every((header) => header.value === '***'),
    'every cookie value is masked',
  );
  assert.ok(!JSON.stringify(har).includes('wonderland'));
});

test('a journey that hangs is cut at its timeout, and the next run on the same pool passes', async () => {
  const hang = await loadJourney(join(repo, 'test/fixtures/journeys/hang.journey.ts'));
  const result = await run(hang);
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'TIMEOUT');
  assert.equal(
    result.error?.message,
    'journey "hang" step 1 "wait forever": journey timeout of 2000 ms exceeded',
  );
  assert.ok(result.phases.total < 8000, `cut near its timeout, took ${result.phases.total} ms`);
  assert.equal((await run(checkout)).status, 'pass');
});

test('a step timeout names the step and the limit', async () => {
  const journey = await loadJourney(join(repo, 'test/fixtures/journeys/step-timeout.journey.ts'));
  const result = await run(journey);
  assert.equal(result.error?.message, 'journey "step-timeout" step 2 "slow": timeout of 500 ms exceeded');
});

test('killing Chromium during a run gives "browser crashed", and the next run passes on a new browser', async () => {
  const linger = await loadJourney(join(repo, 'test/fixtures/journeys/linger.journey.ts'));
  const result = await run(linger, (event) => {
    if (event.type === 'start' && event.name === 'linger') {
      const browser = chromiumBrowserProcess();
      assert.ok(browser, 'Chromium runs as a child of this process');
      process.kill(browser.pid, 'SIGKILL');
    }
  });
  assert.equal(result.status, 'error');
  assert.equal(result.error?.message, 'journey "linger" step 2 "linger": browser crashed');
  assert.equal((await run(checkout)).status, 'pass');
});

test('journey files that cannot be used name the file and the line', async () => {
  await assert.rejects(
    loadJourney(join(repo, 'test/fixtures/journeys/does-not-compile.journey.ts')),
    (error: unknown) => {
      assert.ok(error instanceof JourneyLoadError);
      assert.match(error.message, /does-not-compile\.journey\.ts: line 7, column \d+: does not compile: /);
      return true;
    },
  );
  await assert.rejects(
    loadJourney(join(repo, 'test/fixtures/journeys/exports-nothing.journey.ts')),
    /exports-nothing\.journey\.ts: exports no journey/,
  );
  await assert.rejects(
    loadJourney(join(repo, 'test/fixtures/journeys/invalid-options.journey.ts')),
    (error: unknown) => {
      assert.ok(error instanceof JourneyLoadError);
      assert.deepEqual(
        error.issues.map((issue) => issue.path),
        ['id', 'timeout', 'run'],
      );
      return true;
    },
  );
});

test('trace on-first-retry: a failing first attempt runs untraced, its confirmation retry is traced', async () => {
  const journey = await loadJourney(join(repo, 'test/fixtures/journeys/step-timeout.journey.ts'));
  const settings = { ...DEFAULT_BROWSER_SETTINGS, trace: 'on-first-retry' as const };
  const first = await runJourney(journey, {
    pool,
    artifacts,
    secrets,
    settings,
    location: 'test',
    attempt: 1,
  });
  assert.equal(first.status, 'fail');
  assert.ok(!first.artifacts?.some((artifact) => artifact.kind === 'trace'));
  const retry = await runJourney(journey, {
    pool,
    artifacts,
    secrets,
    settings,
    location: 'test',
    attempt: 2,
  });
  assert.equal(retry.status, 'fail');
  assert.ok(
    retry.artifacts?.some((artifact) => artifact.kind === 'trace'),
    'the retry kept its trace',
  );
});

test('the browser is recycled after the configured number of runs', async () => {
  const recycling = new BrowserPool({
    settings: { ...DEFAULT_BROWSER_SETTINGS, recycleAfterRuns: 2 },
    extraArgs: LOOPBACK_ONLY_CHROMIUM_ARGS,
  });
  try {
    const first = await recycling.acquire();
    await recycling.release(first);
    assert.equal(await recycling.acquire(), first, 'reused while under the limit');
    await recycling.release(first);
    assert.equal(first.isConnected(), false, 'closed after its second run');
    const second = await recycling.acquire();
    assert.notEqual(second, first);
    await recycling.release(second);
  } finally {
    await recycling.close();
  }
});

/** A store on a full disk: every write is refused, as an artifact store's put can be. */
class FullDiskArtifactStore extends FilesystemArtifactStore {
  override async put(key: string): Promise<StoredArtifact> {
    throw new Error(`ENOSPC: no space left on device, write '${key}'`);
  }
}

test('a run that throws (its evidence cannot be stored) still releases its browser: recycled per the pool rules, and the next run passes', async () => {
  const acquired: Browser[] = [];
  /** Notes each browser handed out, so the test can see when it is recycled. */
  class WatchedPool extends BrowserPool {
    override async acquire(): Promise<Browser> {
      const browser = await super.acquire();
      acquired.push(browser);
      return browser;
    }
  }
  const recycling = new WatchedPool({
    settings: { ...DEFAULT_BROWSER_SETTINGS, recycleAfterRuns: 1 },
    extraArgs: LOOPBACK_ONLY_CHROMIUM_ARGS,
  });
  const stepTimeout = await loadJourney(join(repo, 'test/fixtures/journeys/step-timeout.journey.ts'));
  const options = { pool: recycling, secrets, settings: DEFAULT_BROWSER_SETTINGS, location: 'test' };
  try {
    // The failing step's screenshot cannot be written: the run throws.
    await assert.rejects(
      runJourney(stepTimeout, { ...options, artifacts: new FullDiskArtifactStore(artifactsDir) }),
      /ENOSPC: no space left on device, write 'runs\/.+\/failure\.png'/,
    );
    assert.equal(acquired.length, 1);
    assert.equal(acquired[0].isConnected(), false, 'released, and recycled after its one run');
    const next = await runJourney(checkout, { ...options, artifacts });
    assert.equal(next.status, 'pass', next.error?.message);
    assert.equal(acquired.length, 2);
    assert.notEqual(acquired[1], acquired[0], 'the next run got a fresh browser');
    assert.equal(
      acquired[1].isConnected(),
      false,
      'recycled after its one run too: the run that threw is not still counted as active',
    );
  } finally {
    await recycling.close();
  }
});

test('the traces directory of a worker killed outright is removed by the next pool to launch', async () => {
  const deadPid = spawnSync('true').pid; // exited before spawnSync returned
  const orphan = join(tmpdir(), `pathwatch-traces-${deadPid}-orphan`);
  mkdirSync(orphan, { recursive: true });
  writeFileSync(join(orphan, 'pathwatch-run.network'), 'Cookie: session=secret\n');
  const ownLive = mkdtempSync(join(tmpdir(), `pathwatch-traces-${process.pid}-`));
  const fresh = new BrowserPool({
    settings: DEFAULT_BROWSER_SETTINGS,
    extraArgs: LOOPBACK_ONLY_CHROMIUM_ARGS,
  });
  try {
    await fresh.release(await fresh.acquire());
    assert.equal(existsSync(orphan), false, "the dead worker's traces are gone");
    assert.equal(existsSync(ownLive), true, "a live process's directory is left alone");
  } finally {
    await fresh.close();
    rmSync(ownLive, { recursive: true, force: true });
  }
});

test('after the pool closes no Chromium process is left, nor its traces directory', async () => {
  assert.ok(chromiumProcesses().length > 0, 'a browser was running');
  const browser = await pool.acquire();
  const tracesDir = pool.tracesDirOf(browser);
  await pool.release(browser);
  await pool.close();
  assert.deepEqual(chromiumProcesses(), []);
  assert.ok(tracesDir && !existsSync(tracesDir), `${tracesDir} removed`);
});
