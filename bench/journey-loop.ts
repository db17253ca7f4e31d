/**
 * Child process of bench/journeys.ts: runs the checkout journey `count` times as a bare
 * Playwright script without evidence (`bare`) or with pathwatch's default evidence recorded
 * by hand (`bare-evidence`), or through pathwatch's runner (`pathwatch`: trace kept on
 * failure, HAR on; `pathwatch-first-retry`). All launch one Chromium and use a fresh
 * context per run.
 * `spec`: the same steps as a Playwright Test suite (bench/checkout-suite), run as a monitored
 * spec through pathwatch's spec runner, with the same default evidence, in a warm Playwright
 * Test worker (spec-worker.ts) that starts once per round and launches one Chromium.
 * `playwright-test`: that suite under `playwright test` alone (copies of the test, one worker), with the same overrides.
 * Usage: tsx bench/journey-loop.ts bare|bare-evidence|pathwatch|pathwatch-first-retry|playwright-test|spec <count> <shopUrl>
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from '@playwright/test';
import { chromium } from 'playwright';
import { FilesystemArtifactStore } from '../src/artifacts/filesystem-artifact-store.ts';
import { parseConfig } from '../src/config/load-config.ts';
import { SecretResolver } from '../src/config/secret-resolver.ts';
import { BrowserPool } from '../src/journeys/browser-pool.ts';
import {
  DEFAULT_BROWSER_SETTINGS,
  DEFAULT_CHROMIUM_ARGS,
  resolveExecutablePath,
} from '../src/journeys/browser-settings.ts';
import { loadJourney } from '../src/journeys/load-journey.ts';
import { runJourney } from '../src/journeys/run-journey.ts';
import { loadSpecJourneys } from '../src/journeys/specs/load-spec-journeys.ts';
import { playwrightTestCli } from '../src/journeys/specs/playwright-test-cli.ts';
import { runSpecTest } from '../src/journeys/specs/run-spec-test.ts';
import { SpecWorkerPool } from '../src/journeys/specs/spec-worker-pool.ts';
import { writeSpecWrapperConfig } from '../src/journeys/specs/write-spec-wrapper-config.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../test/helpers/loopback-browser.ts';

const [variant, countText, shopUrl] = process.argv.slice(2);
const count = Number(countText);
const args = [...DEFAULT_CHROMIUM_ARGS, ...LOOPBACK_ONLY_CHROMIUM_ARGS];
let failures = 0;
// Module loading differs between the variants (pathwatch loads its config schema, zod, …)
// and a worker pays it once, not per run: the parent subtracts this process's CPU up to
// the first run, and takes the wall time of the runs alone.
let setupCpuSeconds = 0;
let loopStartedAt = 0;
function startLoop(): void {
  const usage = process.cpuUsage();
  // Plus what children already reaped cost (the spec variant's warm-up run): not a run's.
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  const reapedChildrenSeconds = (Number(fields[13]) + Number(fields[14])) / 100;
  setupCpuSeconds = (usage.user + usage.system) / 1e6 + reapedChildrenSeconds;
  loopStartedAt = performance.now();
}

if (variant === 'bare' || variant === 'bare-evidence') {
  // `bare-evidence`: the same evidence as pathwatch's default, recorded the way a Playwright
  // script would: a HAR per context and a trace every run, saved only when the run fails.
  const evidence = variant === 'bare-evidence';
  const evidenceDir = mkdtempSync(join(tmpdir(), 'pathwatch-bench-bare-'));
  const browser = await chromium.launch({
    executablePath: resolveExecutablePath(DEFAULT_BROWSER_SETTINGS),
    args,
  });
  startLoop();
  for (let index = 0; index < count; index++) {
    const context = await browser.newContext(
      evidence ? { recordHar: { path: join(evidenceDir, `run-${index}.har`), content: 'omit' } } : {},
    );
    if (evidence) await context.tracing.start({ snapshots: true, sources: true, screenshots: false });
    const page = await context.newPage();
    let failed = false;
    try {
      await page.goto(shopUrl);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
      await page.getByRole('link', { name: 'Log in' }).click();
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('wonderland');
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect(page).toHaveURL(/\/products$/);
      await page.getByTestId('add-mug').click();
      await expect(page.getByRole('status')).toContainText('Added');
      await page.getByRole('link', { name: 'Cart' }).click();
      await expect(page.getByTestId('cart-total')).toHaveText('$12.00');
      await page.getByRole('link', { name: 'Checkout' }).click();
      await page.getByLabel('Card number').fill('4242 4242 4242 4242');
      await page.getByLabel('Expiry (MM/YY)').fill('12/99');
      await page.getByLabel('CVC').fill('123');
      await page.getByLabel('Name on card').fill('Alice Liddell');
      await page.getByRole('button', { name: 'Pay' }).click();
      await expect(page.getByRole('heading', { name: 'Thank you for your order' })).toBeVisible();
    } catch {
      failed = true;
      failures++;
    }
    if (evidence)
      await (failed
        ? context.tracing.stop({ path: join(evidenceDir, `run-${index}.zip`) })
        : context.tracing.stop());
    await context.close();
  }
  await browser.close();
  rmSync(evidenceDir, { recursive: true, force: true });
} else if (variant === 'playwright-test') {
  // The same suite under Playwright Test alone: `playwright test` on `count` copies of the test, with the
  // config pathwatch's spec runner wraps it in (one worker, no retries, trace
  // retain-on-failure without screenshots, a screenshot on failure, Debian's Chromium). What
  // Playwright Test itself costs, to tell it from what pathwatch adds; its runner and worker
  // start once in the loop, as the spec variant's worker does.
  const workDir = mkdtempSync(join(tmpdir(), 'pathwatch-bench-pwt-'));
  const wrapper = join(workDir, 'pathwatch.config.mjs');
  await writeSpecWrapperConfig(wrapper, {
    userConfig: new URL('./checkout-suite/playwright.config.ts', import.meta.url).pathname,
    outputDir: join(workDir, 'out'),
    trace: { mode: 'retain-on-failure', screenshots: false },
    testTimeoutMs: 25_000,
    executablePath: resolveExecutablePath(DEFAULT_BROWSER_SETTINGS),
    args,
    headless: true,
  });
  const report = join(workDir, 'report.json');
  const env = {
    ...process.env,
    DEMO_SHOP_URL: shopUrl,
    PATHWATCH_SECRET_PASSWORD: 'wonderland',
    FORCE_COLOR: '0',
    PLAYWRIGHT_JSON_OUTPUT_NAME: report,
  };
  // Copies of the test in one file, which Playwright Test runs in one worker (as a team's
  // suite runs): `--repeat-each` would start a worker and a browser for every repetition.
  const copies = (n: number) => ({ ...env, BENCH_REPEAT: String(n) });
  const playwrightTest = (n: number) =>
    spawnSync(process.execPath, [playwrightTestCli(), 'test', '-c', wrapper, '--reporter=json'], {
      env: copies(n),
      cwd: new URL('./checkout-suite/', import.meta.url).pathname,
      stdio: 'ignore',
    });
  // Playwright compiles the spec once and caches it (under TMPDIR): a first run pays that.
  playwrightTest(1);
  startLoop();
  playwrightTest(count);
  const stats = JSON.parse(readFileSync(report, 'utf8')).stats as { expected: number };
  failures = count - stats.expected;
  rmSync(workDir, { recursive: true, force: true });
} else if (variant === 'spec') {
  process.env.DEMO_SHOP_URL = shopUrl;
  process.env.BENCH_SHOP_PASSWORD = 'wonderland';
  const config = await parseConfig(
    {
      locations: { bench: {} },
      playwright: [
        {
          config: 'checkout-suite/playwright.config.ts',
          secrets: { PASSWORD: '${env:BENCH_SHOP_PASSWORD}' },
        },
      ],
    },
    new URL('./bench.yaml', import.meta.url).pathname,
  );
  const { journeys, issues } = await loadSpecJourneys(config, new Set());
  if (issues.length > 0 || journeys.length !== 1)
    throw new Error(`the bench suite: ${JSON.stringify(issues)}`);
  const settings = { ...DEFAULT_BROWSER_SETTINGS, trace: 'retain-on-failure' as const, har: true };
  const artifactsDir = mkdtempSync(join(tmpdir(), 'pathwatch-bench-artifacts-'));
  const artifacts = new FilesystemArtifactStore(artifactsDir);
  const secrets = config.secrets;
  const run = (specWorkers: SpecWorkerPool) =>
    runSpecTest(journeys[0], {
      artifacts,
      secrets,
      settings,
      location: 'bench',
      extraBrowserArgs: LOOPBACK_ONLY_CHROMIUM_ARGS,
      specWorkers,
    });
  // Playwright compiles the spec once and caches it on disk; a first run in a worker that is
  // then stopped pays that, as a worker would once, and is not counted. The loop's own worker
  // starts in the loop: its start and its browser's launch count, as the other variants'
  // launches do.
  const warmUp = new SpecWorkerPool();
  await run(warmUp);
  await warmUp.close();
  const specWorkers = new SpecWorkerPool();
  startLoop();
  for (let index = 0; index < count; index++) {
    const result = await run(specWorkers);
    if (result.status !== 'pass') {
      failures++;
      console.error(result.error?.message);
    }
  }
  await specWorkers.close();
  rmSync(artifactsDir, { recursive: true, force: true });
} else {
  process.env.DEMO_SHOP_URL = shopUrl;
  const journey = await loadJourney(new URL('../journeys/checkout.journey.ts', import.meta.url).pathname);
  const settings = {
    ...DEFAULT_BROWSER_SETTINGS,
    // `pathwatch`: the default, trace recorded every run and kept on failure;
    // `pathwatch-first-retry`: trace only on a failed run's confirmation retry.
    trace: variant === 'pathwatch-first-retry' ? ('on-first-retry' as const) : ('retain-on-failure' as const),
    har: true,
  };
  const pool = new BrowserPool({ settings, extraArgs: LOOPBACK_ONLY_CHROMIUM_ARGS });
  const artifactsDir = mkdtempSync(join(tmpdir(), 'pathwatch-bench-artifacts-'));
  const artifacts = new FilesystemArtifactStore(artifactsDir);
  const secrets = new SecretResolver({}, { DEMO_SHOP_PASSWORD: 'wonderland' });
  await pool.release(await pool.acquire()); // launch before the loop, as the bare variant does
  startLoop();
  for (let index = 0; index < count; index++) {
    const result = await runJourney(journey, { pool, artifacts, secrets, settings, location: 'bench' });
    if (result.status !== 'pass') failures++;
  }
  await pool.close();
  rmSync(artifactsDir, { recursive: true, force: true });
}
const loopWallSeconds = (performance.now() - loopStartedAt) / 1000;
const usage = process.cpuUsage();
const nodeLoopCpuSeconds = (usage.user + usage.system) / 1e6 - setupCpuSeconds;
console.log(
  JSON.stringify({ variant, count, failures, setupCpuSeconds, loopWallSeconds, nodeLoopCpuSeconds }),
);
