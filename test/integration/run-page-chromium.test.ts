import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Browser } from 'playwright';
import { buildApp } from '../../src/api/build-app.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { signLink } from '../../src/auth/signed-link.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { SecretResolver } from '../../src/config/secret-resolver.ts';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import { BrowserPool } from '../../src/journeys/browser-pool.ts';
import { DEFAULT_BROWSER_SETTINGS } from '../../src/journeys/browser-settings.ts';
import { loadJourney } from '../../src/journeys/load-journey.ts';
import { runJourney } from '../../src/journeys/run-journey.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS, launchLoopbackChromium } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 13, done-when 2: a real Chromium opens a failed journey run's signed link, sees the
 * failing step's screenshot on the run page, follows the link to the trace viewer and sees
 * the step names there. Screenshots of both pages are kept under test-artifacts/.
 */
const repo = new URL('../..', import.meta.url).pathname;
const ARTIFACTS_OUT = join(repo, 'test-artifacts');
const prefix = uniquePrefix('run-page-chromium');
const dir = mkdtempSync(join(tmpdir(), 'pw-run-page-chromium-'));
const STEPS = ['open shop', 'log in', 'add to cart', 'checkout', 'pay'];
let redis: Redis;
let shop: DemoShop;
let app: FastifyInstance;
let browser: Browser;
let failed: RunResult;
const linkKey = Buffer.alloc(32, 7);

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  shop = await startDemoShop();
  process.env.DEMO_SHOP_URL = shop.url; // the example journey reads it at load time
  const artifacts = new FilesystemArtifactStore(join(dir, 'artifacts'));
  // A real failing run: the example checkout journey with the shop's pay button broken.
  const pool = new BrowserPool({
    settings: DEFAULT_BROWSER_SETTINGS,
    extraArgs: LOOPBACK_ONLY_CHROMIUM_ARGS,
  });
  shop.faults.brokenPayButton = true;
  try {
    failed = await runJourney(await loadJourney(join(repo, 'journeys/checkout.journey.ts')), {
      pool,
      artifacts,
      secrets: new SecretResolver({}, { DEMO_SHOP_PASSWORD: 'wonderland' }),
      settings: DEFAULT_BROWSER_SETTINGS,
      location: 'inside',
      runId: 'chromium-run-1',
      scheduledAt: Date.now(),
    });
  } finally {
    shop.faults.brokenPayButton = false;
    await pool.close();
  }
  assert.equal(failed.status, 'fail', failed.error?.message);
  assert.deepEqual(failed.artifacts?.map((artifact) => artifact.kind).sort(), ['har', 'screenshot', 'trace']);
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'shop', kind: 'http', http: { url: shop.url } }],
      redis: { prefix },
      // With tokens set nothing opens without one: the signed link is what lets Chromium in.
      api: { tokens: [{ name: 'ops', hash: createApiToken().hash, role: 'operator' }] },
    },
    join(dir, 'pathwatch.yaml'),
  );
  const recorder = new ResultsRecorder(redis, config);
  await recorder.runs.save(failed);
  app = await buildApp({ config, recorder, artifacts, linkKey });
  await app.listen({ host: '127.0.0.1', port: 0 });
  browser = await launchLoopbackChromium();
  mkdirSync(ARTIFACTS_OUT, { recursive: true });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await shop?.close();
  await deleteKeysWithPrefix(prefix);
  redis?.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test("a failed journey's signed link shows the failing step's screenshot, and its trace in the viewer", async () => {
  const { port } = app.server.address() as { port: number };
  // localhost: the trace viewer's service worker needs a secure context.
  const base = `http://localhost:${port}`;
  const { exp, sig } = signLink(linkKey, { runId: failed.runId, expiresAt: Date.now() + 3_600_000 });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const refused: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  // Browsers ask for /favicon.ico on their own; the page links none.
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico'))
      refused.push(`${response.status()} ${response.url()}`);
  });
  const answer = await page.goto(`${base}/runs/${failed.runId}?exp=${exp}&sig=${sig}`);
  assert.equal(answer?.status(), 200);

  // The run page: the failing step, its screenshot loaded (a broken image has no width).
  const failingStep = page.locator('tr.step-fail .step-name');
  assert.equal(await failingStep.textContent(), 'pay');
  const screenshot = page.locator('img.failing-screenshot');
  await screenshot.waitFor();
  const naturalWidth = await screenshot.evaluate(async (element) => {
    const image = element as HTMLImageElement;
    if (!image.complete)
      await new Promise((resolve) => image.addEventListener('load', resolve, { once: true }));
    return image.naturalWidth;
  });
  assert.ok(naturalWidth > 0, `the screenshot loaded (naturalWidth ${naturalWidth})`);
  assert.ok(
    await page.getByText('the target answered, not as the check expects').isVisible(),
    'the error with what to do',
  );
  assert.equal(
    await page.evaluate(() => getComputedStyle(document.body).maxWidth),
    '1152px',
    'the stylesheet from /assets/ applies',
  );
  await page.screenshot({ path: join(ARTIFACTS_OUT, 'run-page.png'), fullPage: true });

  // The trace viewer, through the page's own link (signed like the page).
  await page.getByRole('link', { name: 'Open the trace in the trace viewer' }).click();
  await page.waitForURL(/\/trace\/\?trace=/);
  for (const step of STEPS) {
    await page.getByText(step, { exact: true }).first().waitFor({ timeout: 30_000 });
  }
  await page.screenshot({ path: join(ARTIFACTS_OUT, 'trace-viewer.png') });
  assert.deepEqual(
    refused.filter((text) => !/^Executing inline script violates/.test(text)),
    [],
    'nothing refused by the CSP or failed to load',
  );
  await page.close();
});
