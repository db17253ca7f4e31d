import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Browser } from 'playwright';
import { buildApp } from '../../src/api/build-app.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { type LoadedConfig, parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { runOf } from '../helpers/alert-pipeline.ts';
import { launchLoopbackChromium } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 15, the status page: signed in with a token, every check × location with its state
 * and the verdict, filters, a live update without a reload, English and Japanese, nothing
 * fetched from anywhere but the API; screenshots kept in test-artifacts/.
 */
const prefix = uniquePrefix('console-status');
const dir = mkdtempSync(join(tmpdir(), 'pw-console-'));
const ARTIFACTS_DIR = join(process.cwd(), 'test-artifacts');
const viewer = createApiToken();
const worker = createApiToken();
let redis: Redis;
let config: LoadedConfig;
let recorder: ResultsRecorder;
let app: FastifyInstance;
let base: string;
let browser: Browser;
const stops: Array<() => Promise<void>> = [];

before(async () => {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  redis = createRedisConnection(SHARED_REDIS_URL);
  config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: [
        {
          id: 'shop',
          name: 'Shop <front>',
          kind: 'http',
          tags: ['payments'],
          http: { url: 'http://127.0.0.1:1/' },
        },
        {
          id: 'pay',
          name: 'Payment API',
          kind: 'http',
          tags: ['payments'],
          http: { url: 'http://127.0.0.1:1/' },
        },
        { id: 'blog', name: 'Blog', kind: 'tcp', tcp: { host: '127.0.0.1', port: 1 } },
      ],
      redis: { prefix },
      dataDir: join(dir, 'data'),
      api: {
        tokens: [
          { name: 'wall-screen', hash: viewer.hash, role: 'viewer' },
          { name: 'uploader', hash: worker.hash, role: 'worker' },
        ],
      },
    },
    join(dir, 'pathwatch.yaml'),
  );
  recorder = new ResultsRecorder(redis, config);
  stops.push(recorder.workers.start('inside'), recorder.workers.start('outside'));
  const both = ['inside', 'outside'];
  const record = (id: string, location: string, status: 'pass' | 'fail', at: number) =>
    recorder.recordRun(runOf(id, location, status, at), {
      counted: true,
      policy: { downAfter: 1, upAfter: 1 },
      locations: both,
    });
  const now = Date.now();
  // A day of history for the sparklines, then the states: the shop fails from outside only.
  for (let hour = 23; hour >= 1; hour--) {
    for (const id of ['shop', 'pay', 'blog'])
      for (const location of both)
        await record(id, location, hour === 5 && id === 'pay' ? 'fail' : 'pass', now - hour * 3_600_000);
  }
  for (const id of ['pay', 'blog'])
    for (const location of both) await record(id, location, 'pass', now - 1000);
  await record('shop', 'inside', 'pass', now - 1000);
  await record('shop', 'outside', 'fail', now - 500);
  // Three slots missed at the outside six hours ago: the check page shades them on its charts.
  const gapStart = Math.floor((now - 6 * 3_600_000) / 60_000) * 60_000;
  await recorder.missedSlots.startSeries('shop', 'outside', gapStart - 60_000);
  await recorder.missedSlots.recordSweep('shop', 'outside', gapStart - 60_000, gapStart + 120_000, 60_000, [
    { start: gapStart, end: gapStart + 120_000, count: 3 },
  ]);
  app = await buildApp({ config, recorder, redis, linkKey: Buffer.alloc(32, 3) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  browser = await launchLoopbackChromium();
});

after(async () => {
  await browser?.close();
  await app?.close();
  for (const stop of stops) await stop();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('without a session the page is the sign-in form (401); a worker token is refused (403); a wrong token says so', async () => {
  const anonymous = await fetch(`${base}/?lang=en`);
  assert.equal(anonymous.status, 401);
  assert.match(await anonymous.text(), /<form method="post" action="\/signin"/);
  const asWorker = await fetch(`${base}/`, { headers: { authorization: `Bearer ${worker.token}` } });
  assert.equal(asWorker.status, 403);
  const wrong = await fetch(`${base}/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: createApiToken().token, next: '/' }),
    redirect: 'manual',
  });
  assert.equal(wrong.status, 422);
  assert.match(await wrong.text(), /This token is not in api.tokens/);
  assert.equal(wrong.headers.get('set-cookie'), null);
});

test('signed in, the status page shows every check × location worst first, the verdict and sparklines; filters narrow it; it updates by itself', async () => {
  const context = await browser.newContext({ locale: 'en-US' });
  const page = await context.newPage();
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) elsewhere.push(request.url());
  });
  await page.goto(`${base}/?state=&lang=en`);
  await page.fill('input[name=token]', viewer.token);
  await page.click('button[type=submit]');
  await page.waitForSelector('table.status');
  const cookies = await context.cookies();
  const session = cookies.find((cookie) => cookie.name === 'pathwatch_session');
  assert.ok(session?.httpOnly, 'an HttpOnly session cookie');
  assert.ok(!session.value.includes(viewer.token), 'the cookie does not hold the token');
  assert.match((await page.textContent('header')) ?? '', /Signed in as wall-screen \(viewer\)/);

  const rows = await page.$$eval('table.status tbody tr', (trs) =>
    trs.map((tr) => ({
      check: tr.getAttribute('data-check'),
      inside: tr.querySelector('[data-location=inside]')?.getAttribute('data-state'),
      outside: tr.querySelector('[data-location=outside]')?.getAttribute('data-state'),
      verdict: tr.querySelector('.verdict')?.textContent?.trim(),
      bars: tr.querySelectorAll('svg.spark rect').length,
    })),
  );
  assert.deepEqual(
    rows.map((row) => row.check),
    ['shop', 'blog', 'pay'],
  );
  assert.deepEqual(rows[0], {
    check: 'shop',
    inside: 'UP',
    outside: 'DOWN',
    verdict: 'failing from outside only: the path',
    bars: 24,
  });
  assert.equal(await page.textContent('table.status tbody tr[data-check=shop] th'), 'Shop <front> payments');
  assert.match((await page.textContent('.summary')) ?? '', /^1 down, 0 degraded, 2 up, 0 unknown$/);
  // The bad hour of the payment API shows in its sparkline.
  assert.equal(await page.locator('tr[data-check=pay] svg.spark rect.bad').count(), 1);
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-status-en.png'), fullPage: true });

  await page.selectOption('select[name=tag]', 'payments');
  await page.selectOption('select[name=state]', 'DOWN');
  await page.click('form.filters button');
  await page.waitForURL(/state=DOWN/);
  assert.deepEqual(
    await page.$$eval('table.status tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-check'))),
    ['shop'],
  );

  // The payment API fails from inside too: the open page shows it within a refresh, no reload.
  await page.goto(`${base}/?lang=en`);
  const navigations: string[] = [];
  page.on('framenavigated', (frame) => navigations.push(frame.url()));
  await recorder.recordRun(runOf('pay', 'inside', 'fail'), {
    counted: true,
    policy: { downAfter: 1, upAfter: 1 },
    locations: ['inside', 'outside'],
  });
  await page.waitForSelector('tr[data-check=pay] [data-location=inside][data-state=DOWN]', {
    timeout: 15_000,
  });
  assert.deepEqual(navigations, [], 'updated in place');
  assert.deepEqual(elsewhere, [], 'no request left the API');
  await context.close();
});

test('in Japanese: headings, states and verdicts are Japanese (test-artifacts/console-status-ja.png); the table refresh answers 304 when nothing changed', async () => {
  const context = await browser.newContext({
    locale: 'ja-JP',
    extraHTTPHeaders: { authorization: `Bearer ${viewer.token}` },
  });
  const page = await context.newPage();
  await page.goto(`${base}/`);
  assert.equal(await page.textContent('h1'), '状態');
  assert.equal(await page.textContent('tr[data-check=shop] [data-location=outside] strong'), '停止');
  assert.equal(await page.textContent('tr[data-check=shop] .verdict'), '外部からのみ失敗：経路');
  // How long, to the minute: the table's text must not tick every second (its refresh's 304).
  assert.equal(await page.textContent('tr[data-check=shop] [data-location=outside] small'), '1 分未満 継続');
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-status-ja.png'), fullPage: true });
  await context.close();

  const headers = { authorization: `Bearer ${viewer.token}`, 'x-pathwatch-fragment': 'status-table' };
  // The table's text changes when a minute turns ("for 5 min", "Updated 14:02"): should one
  // turn between the two requests, the pair is asked again (at most three times).
  const statuses: number[] = [];
  for (let attempt = 0; attempt < 3 && statuses.at(-1) !== 304; attempt++) {
    const first = await fetch(`${base}/?lang=en`, { headers });
    assert.equal(first.status, 200);
    assert.doesNotMatch(await first.text(), /<html/);
    const etag = first.headers.get('etag');
    assert.ok(etag);
    const again = await fetch(`${base}/?lang=en`, { headers: { ...headers, 'if-none-match': etag } });
    statuses.push(again.status);
  }
  assert.equal(statuses.at(-1), 304, `refresh answers: ${statuses.join(', ')}`);
});

test('the map page draws the broken outside path in the page itself (an SVG whose paths are links), in both languages', async () => {
  const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${viewer.token}` } });
  const page = await context.newPage();
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) elsewhere.push(request.url());
  });
  for (const language of ['en', 'ja'] as const) {
    await page.goto(`${base}/map?lang=${language}`);
    assert.equal(await page.textContent('h1'), language === 'en' ? 'Map of paths' : '経路マップ');
    await page.waitForSelector('#live svg');
    const links = await page.$$eval('#live svg a', (anchors) =>
      anchors.map((anchor) => anchor.getAttribute('href') ?? anchor.getAttribute('xlink:href')),
    );
    assert.ok(
      links.some((href) => href?.includes('path=outside')),
      `a link per path: ${links.join(' ')}`,
    );
    assert.match((await page.textContent('#live svg')) ?? '', /Shop <front>|Shop &lt;front&gt;/);
    await page.screenshot({ path: join(ARTIFACTS_DIR, `console-map-${language}.png`), fullPage: true });
  }
  assert.deepEqual(elsewhere, []);
  await context.close();
});

test('a check page: availability per location, latency and phase charts drawn by uPlot from the page itself, incidents, runs filtered, in both languages', async () => {
  const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${viewer.token}` } });
  const page = await context.newPage();
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) elsewhere.push(request.url());
  });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base}/?lang=en`);
  await page.click('tr[data-check=shop] th a');
  await page.waitForURL(/\/checks\/shop/);
  assert.equal((await page.textContent('h1 a, h1')) !== null, true);
  assert.match((await page.textContent('h1')) ?? '', /Shop <front>/);
  // 23 hourly passes at each location, and at the outside the failing run: 23/24.
  assert.equal(await page.textContent('tr[data-location=inside] .availability-value'), '100.000 %');
  assert.equal(await page.textContent('tr[data-location=outside] .availability-value'), '95.833 %');
  await page.waitForSelector('#latency-chart .uplot');
  await page.waitForSelector('#phases-chart .uplot');
  assert.equal(
    await page.getAttribute('#latency-chart', 'data-series'),
    '6',
    'p50, p95 and p99 at each location',
  );
  assert.match((await page.textContent('#phases-chart')) ?? '', /connect/);
  // The missed slots are listed, and shaded on the latency chart where they fall.
  assert.match((await page.textContent('ul.gaps')) ?? '', /outside: .* \(3\)/);
  assert.equal(await page.getAttribute('#latency-chart', 'data-gaps-drawn'), '1');
  assert.equal(await page.locator('table.incidents tbody tr').count(), 1);
  assert.match((await page.textContent('table.incidents')) ?? '', /failing from outside only: the path/);
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-check-en.png'), fullPage: true });
  await page.selectOption('form.filters select[name=status]', 'fail');
  await page.click('form.filters button');
  await page.waitForURL(/status=fail/);
  const statuses = await page.$$eval('table.runs tbody tr', (rows) =>
    rows.map((row) => row.getAttribute('data-status')),
  );
  assert.ok(statuses.length >= 1 && statuses.every((status) => status === 'fail'), statuses.join(','));
  await page.goto(`${base}/checks/shop?lang=ja`);
  assert.match((await page.textContent('main')) ?? '', /拠点ごとの可用性/);
  await page.waitForSelector('#latency-chart .uplot');
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-check-ja.png'), fullPage: true });
  const missing = await page.goto(`${base}/checks/nope`);
  assert.equal(missing?.status(), 404);
  assert.deepEqual(elsewhere, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('reports: the page shows each check × location with availability against the target and links the CSV; a map path opens the status of its checks there', async () => {
  const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${viewer.token}` } });
  const page = await context.newPage();
  await page.goto(`${base}/reports?lang=en&period=day`);
  assert.equal(await page.textContent('h1'), 'Reports');
  const api = await (
    await fetch(`${base}/api/v1/reports?period=day`, { headers: { authorization: `Bearer ${viewer.token}` } })
  ).json();
  const shop = api.checks.find((check: { id: string }) => check.id === 'shop');
  const outside = shop.locations.find((row: { location: string }) => row.location === 'outside');
  // The page shows the API's own availability, row for row.
  assert.equal(
    await page.textContent('tr[data-check=shop][data-location=outside] .availability-value'),
    `${outside.availability.toFixed(3)} %`,
  );
  assert.ok(outside.availability < 100);
  assert.equal(await page.getAttribute('a.csv', 'href'), '/api/v1/reports?period=day&format=csv');
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-reports-en.png'), fullPage: true });
  await page.goto(`${base}/reports?lang=ja&period=week`);
  assert.equal(await page.textContent('h1'), 'レポート');
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-reports-ja.png'), fullPage: true });

  await page.goto(`${base}/?lang=en&path=${encodeURIComponent('outside~127.0.0.1:1')}`);
  const headers = await page.$$eval('table.status thead th', (cells) =>
    cells.map((cell) => cell.textContent?.trim()),
  );
  assert.ok(headers.includes('outside') && !headers.includes('inside'), headers.join('|'));
  // All three talk to 127.0.0.1:1 (two over http, the blog over tcp): one path, three checks.
  assert.equal(await page.locator('table.status tbody tr').count(), 3);
  await page.goto(`${base}/?lang=en&path=${encodeURIComponent('outside~elsewhere.test')}`);
  assert.equal(await page.locator('table.status tbody tr').count(), 0);
  assert.match((await page.textContent('.empty')) ?? '', /No check or journey matches/);
  await context.close();
});
