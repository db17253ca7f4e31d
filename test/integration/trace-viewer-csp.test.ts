import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Browser } from 'playwright';
import { buildApp } from '../../src/api/build-app.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { launchLoopbackChromium } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * The API's Content-Security-Policy must not break Playwright's trace viewer: a real
 * Chromium opens a run's trace through /trace/?trace=… on the API, as a run link does, and
 * the viewer shows the trace's actions and its DOM snapshot with no blocked frame.
 */
const prefix = uniquePrefix('viewer-csp');
const dir = mkdtempSync(join(tmpdir(), 'pw-viewer-csp-'));
let redis: Redis;
let app: FastifyInstance;
let browser: Browser;

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  browser = await launchLoopbackChromium();
  // A real trace: a page with a button, clicked, with snapshots and screenshots.
  const context = await browser.newContext();
  await context.tracing.start({ screenshots: true, snapshots: true });
  const page = await context.newPage();
  await page.setContent('<h1>Checkout</h1><button onclick="this.textContent=\'Paid\'">Pay now</button>');
  await page.getByText('Pay now').click();
  await context.tracing.stop({ path: join(dir, 'trace.zip') });
  await context.close();

  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'checkout', kind: 'http', http: { url: 'http://127.0.0.1/' } }],
      redis: { prefix },
    },
    join(dir, 'pathwatch.yaml'),
  );
  const recorder = new ResultsRecorder(redis, config);
  const artifacts = new FilesystemArtifactStore(join(dir, 'artifacts'));
  const trace = await artifacts.put(
    'runs/csp1/trace.zip',
    readFileSync(join(dir, 'trace.zip')),
    'application/zip',
  );
  await recorder.runs.save({
    runId: 'csp1',
    checkId: 'checkout',
    kind: 'http',
    location: 'inside',
    startedAt: Date.now() - 1000,
    finishedAt: Date.now() - 900,
    attempt: 1,
    status: 'fail',
    phases: { total: 100 },
    peers: [],
    artifacts: [{ kind: 'trace', key: trace.key, bytes: trace.bytes }],
  });
  app = await buildApp({ config, recorder, artifacts });
  await app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('the trace viewer works under the CSP the API sends', async () => {
  const { port } = app.server.address() as { port: number };
  // localhost: the viewer's service worker needs a secure context.
  const base = `http://localhost:${port}`;
  const page = await browser.newPage();
  const policyMessages: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) policyMessages.push(message.text());
  });
  const traceUrl = `${base}/api/v1/runs/csp1/artifacts/trace.zip`;
  const answer = await page.goto(`${base}/trace/?trace=${encodeURIComponent(traceUrl)}`);
  assert.equal(answer?.status(), 200);
  assert.match(String(answer?.headers()['content-security-policy']), /default-src 'self'/);
  await page.getByText('Click', { exact: true }).first().click({ timeout: 20_000 });
  const snapshot = page.frames().find((frame) => frame.url().includes('/trace/snapshot/'));
  await snapshot?.getByText('Pay now').waitFor({ timeout: 10_000 });
  assert.ok(
    snapshot,
    `a snapshot frame among ${page
      .frames()
      .map((frame) => frame.url())
      .join(', ')}`,
  );
  // Give a late frame or image the time to be refused.
  await page.waitForTimeout(1000);
  const blocked = page.frames().filter((frame) => frame.url().startsWith('chrome-error:'));
  assert.deepEqual(
    blocked.map((frame) => frame.url()),
    [],
    `no frame blocked; CSP messages: ${policyMessages.join(' | ')}`,
  );
  // The one inline script of index.html only runs when the viewer is opened from file://.
  assert.deepEqual(
    policyMessages.filter((text) => !/^Executing inline script violates/.test(text)),
    [],
  );
});
