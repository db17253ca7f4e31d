import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Browser } from 'playwright';
import { buildApp } from '../../src/api/build-app.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { runOf } from '../helpers/alert-pipeline.ts';
import { launchLoopbackChromium } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 15: a check page over a chosen range (from/to, UTC) with its percentiles; refused
 * ranges as one line; the status table in pages of 200 rows; the console's assets served by
 * @fastify/static from an allow-list only.
 */
const prefix = uniquePrefix('console-range');
const dir = mkdtempSync(join(tmpdir(), 'pw-console-range-'));
const viewer = createApiToken();
const HOUR_MS = 3_600_000;
const ARTIFACTS_DIR = join(process.cwd(), 'test-artifacts');
const BULK = 205;
let redis: Redis;
let recorder: ResultsRecorder;
let app: FastifyInstance;
let base: string;
let browser: Browser;
const stops: Array<() => Promise<void>> = [];
const now = Date.now();
/** The start of the hour 50 hours ago: the past range the tests choose. */
const pastHour = now - (now % HOUR_MS) - 50 * HOUR_MS;
const pastRuns: string[] = [];
const auth = { authorization: `Bearer ${viewer.token}` };
const inputValue = (at: number) => new Date(at).toISOString().slice(0, 16);

before(async () => {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  redis = createRedisConnection(SHARED_REDIS_URL);
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: [
        { id: 'shop', name: 'Shop', kind: 'http', http: { url: 'http://127.0.0.1:1/' } },
        ...Array.from({ length: BULK }, (_, index) => ({
          id: `bulk-${String(index).padStart(3, '0')}`,
          kind: 'http',
          tags: ['bulk'],
          http: { url: 'http://127.0.0.1:1/' },
        })),
      ],
      redis: { prefix },
      dataDir: join(dir, 'data'),
      api: { tokens: [{ name: 'wall-screen', hash: viewer.hash, role: 'viewer' }] },
    },
    join(dir, 'pathwatch.yaml'),
  );
  recorder = new ResultsRecorder(redis, config);
  stops.push(recorder.workers.start('inside'), recorder.workers.start('outside'));
  const both = ['inside', 'outside'];
  const record = async (id: string, location: string, status: 'pass' | 'fail', at: number, totalMs = 5) => {
    const run = runOf(id, location, status, at, { phases: { connect: 2, total: totalMs } });
    await recorder.recordRun(run, { counted: true, policy: { downAfter: 1, upAfter: 1 }, locations: both });
    return run.runId;
  };
  // 50 hours ago: three slow passes inside (≤ 1 s), one slower failure outside (≤ 5 s).
  for (const minute of [0, 10, 20])
    pastRuns.push(await record('shop', 'inside', 'pass', pastHour + minute * 60_000, 700));
  pastRuns.push(await record('shop', 'outside', 'fail', pastHour + 5 * 60_000, 3000));
  // The last day: fast passes every hour at both.
  for (let hour = 23; hour >= 1; hour--)
    for (const location of both) await record('shop', location, 'pass', now - hour * HOUR_MS);
  // One bulk check down, so the worst-first order has something to put first.
  await record('bulk-100', 'outside', 'fail', now - 1000);
  app = await buildApp({ config, recorder, redis, linkKey: Buffer.alloc(32, 5) });
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

/**
 * A GET with the path exactly as written (fetch would resolve `..` before sending, and adds
 * `cache-control: no-cache` to a request with If-None-Match, which a file server must honour).
 */
function rawGet(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

test('a custom range narrows the runs, the charts and the availability, shows its percentiles, and is kept by the language switch and the filters', async () => {
  const context = await browser.newContext({ extraHTTPHeaders: auth });
  const page = await context.newPage();
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) elsewhere.push(request.url());
  });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));

  // ...and not over the last six hours, long after it ended (the page listed the latest 20
  // whatever the range).
  await page.goto(`${base}/checks/shop?lang=en&from=${inputValue(now - 6 * HOUR_MS)}&to=${inputValue(now)}`);
  assert.equal(await page.locator('table.incidents tbody tr').count(), 0);
  assert.match((await page.textContent('main')) ?? '', /No incident\./);

  // The last day first: none of the runs of 50 hours ago.
  await page.goto(`${base}/checks/shop?lang=en`);
  const dayRuns = await page.$$eval('table.runs tbody tr', (rows) =>
    rows.map((row) => row.getAttribute('data-run')),
  );
  assert.ok(dayRuns.length > 0 && pastRuns.every((id) => !dayRuns.includes(id)), dayRuns.join(','));
  assert.equal(JSON.parse((await page.textContent('#chart-data')) ?? '{}').hours.length, 24);

  // The range form: an hour, 50 hours ago, typed in UTC.
  await page.fill('form.range-form input[name=from]', inputValue(pastHour));
  await page.fill('form.range-form input[name=to]', inputValue(pastHour + HOUR_MS));
  await page.click('form.range-form button');
  await page.waitForURL(/from=/);
  const runs = await page.$$eval('table.runs tbody tr', (rows) =>
    rows.map((row) => row.getAttribute('data-run')),
  );
  assert.deepEqual([...runs].sort(), [...pastRuns].sort());
  const chart = JSON.parse((await page.textContent('#chart-data')) ?? '{}');
  assert.deepEqual(chart.hours, [pastHour / 1000], 'the latency chart covers the one hour chosen');
  assert.equal(chart.phases.at.length, 4, 'the phases chart draws the four runs of the range');
  await page.waitForSelector('#latency-chart .uplot');
  assert.equal(await page.textContent('tr[data-location=inside] .availability-value'), '100.000 %');
  assert.equal(await page.textContent('tr[data-location=outside] .availability-value'), '0.000 %');
  // The outside's incident opened in this hour (it ended 23 hours ago): listed here...
  assert.equal(await page.locator('table.incidents tbody tr').count(), 1);
  // p50/p95/p99 of the range, from the rollups' histograms (bucket bounds: 1 s, 5 s).
  const percentiles = await page.$$eval('table.percentiles tbody tr', (rows) =>
    rows.map((row) => [
      row.getAttribute('data-location'),
      ...[...row.querySelectorAll('td')].map((td) => td.textContent),
    ]),
  );
  assert.deepEqual(percentiles, [
    ['inside', '≤ 1000 ms', '≤ 1000 ms', '≤ 1000 ms'],
    ['outside', '≤ 5000 ms', '≤ 5000 ms', '≤ 5000 ms'],
    ['*', '≤ 1000 ms', '≤ 5000 ms', '≤ 5000 ms'],
  ]);
  assert.match((await page.textContent('table.percentiles caption')) ?? '', /Latency over this range/);
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-check-range-en.png'), fullPage: true });
  assert.equal(await page.locator('nav.ranges a[aria-current=page]').count(), 0, 'no preset is current');

  // The language switch keeps the range; so does the runs' filter.
  const japanese = await page.getAttribute('header a[hreflang=ja]', 'href');
  assert.ok(japanese?.includes('from=') && japanese.includes('to='), japanese ?? '');
  await page.selectOption('form.filters select[name=status]', 'fail');
  await page.click('form.filters button');
  await page.waitForURL(/status=fail/);
  assert.match(page.url(), /from=/);
  assert.deepEqual(
    await page.$$eval('table.runs tbody tr', (rows) => rows.map((row) => row.getAttribute('data-status'))),
    ['fail'],
  );
  // ...and the presets keep the runs' filter (and leave the custom range).
  const week = await page.getAttribute('nav.ranges a:nth-child(2)', 'href');
  assert.ok(
    week?.includes('hours=168') && week.includes('status=fail') && !week.includes('from='),
    week ?? '',
  );
  await page.goto(
    `${base}${new URL(japanese ?? '', page.url()).pathname}${new URL(japanese ?? '', page.url()).search}`,
  );
  assert.match((await page.textContent('table.percentiles caption')) ?? '', /この期間の応答時間/);
  assert.equal(await page.locator('table.runs tbody tr').count(), 4);
  assert.deepEqual(elsewhere, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('a bad, reversed, future or too old range answers 400 with one line naming the field and what it takes', async () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ hours: '5' }, /^hours: expected one of 24, 168, 720, got "5"$/],
    [
      { from: 'yesterday' },
      /^from: expected a date and time in UTC such as \d{4}-\d\d-\d\dT\d\d:\d\d \(ISO 8601\), got "yesterday"$/,
    ],
    [
      { from: '2026-02-30T10:00' },
      /^from: expected a date and time in UTC such as .*, got "2026-02-30T10:00"$/,
    ],
    [
      { from: inputValue(pastHour), to: '12:00' },
      /^to: expected a date and time in UTC such as .*, got "12:00"$/,
    ],
    [
      { to: inputValue(pastHour) },
      /^from: expected a start \(a date and time in UTC such as .*\) when "to" is given$/,
    ],
    [
      { from: inputValue(pastHour + HOUR_MS), to: inputValue(pastHour) },
      new RegExp(`^to: expected a time after "from" \\(${inputValue(pastHour + HOUR_MS)} UTC\\)$`),
    ],
    [{ from: inputValue(now + 2 * HOUR_MS) }, /^from: expected a time before now \(.* UTC\)$/],
    [
      { from: inputValue(now - 40 * 24 * HOUR_MS) },
      /^from: expected a time within the 30 days of history kept \(rollupDays\), not before .* UTC$/,
    ],
  ];
  for (const [query, line] of cases) {
    const response = await fetch(`${base}/checks/shop?lang=en&${new URLSearchParams(query)}`, {
      headers: auth,
    });
    const body = await response.text();
    assert.equal(response.status, 400, JSON.stringify(query));
    const lines = [...body.matchAll(/<p class="error" role="alert" data-field="(\w+)">([^<]*)<\/p>/g)];
    assert.equal(lines.length, 1, `one line for ${JSON.stringify(query)}`);
    const text = lines[0][2].replaceAll('&quot;', '"').replaceAll('&#39;', "'");
    assert.match(text, line);
    assert.equal(lines[0][1], text.split(':')[0]);
    assert.doesNotMatch(body, /at \S+\.ts:\d+|Error:/, 'no stack trace');
    // What was typed stays in the form, to be corrected.
    if (query.from) assert.match(body, new RegExp(`name="from" step="60" value="${query.from}"`));
  }
  const japanese = await fetch(`${base}/checks/shop?lang=ja&from=nope`, { headers: auth });
  assert.equal(japanese.status, 400);
  assert.match(
    await japanese.text(),
    /from: UTC の日時を .* のように指定してください（ISO 8601）。入力値：「nope」/,
  );

  // In the browser: the line shows where the charts would be.
  const context = await browser.newContext({ extraHTTPHeaders: auth });
  const page = await context.newPage();
  const response = await page.goto(
    `${base}/checks/shop?lang=en&from=${inputValue(pastHour + HOUR_MS)}&to=${inputValue(pastHour)}`,
  );
  assert.equal(response?.status(), 400);
  assert.match((await page.textContent('[role=alert]')) ?? '', /^to: expected a time after "from"/);
  assert.equal(await page.locator('#latency-chart').count(), 0);
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-check-range-refused.png'), fullPage: true });
  await context.close();
});

test('the status table shows 200 rows a page, worst first, with a pager that keeps the filters; the counts cover every row; the refresh keeps the page', async () => {
  const context = await browser.newContext({ extraHTTPHeaders: auth });
  const page = await context.newPage();
  await page.goto(`${base}/?lang=en`);
  const first = await page.$$eval('table.status tbody tr', (rows) =>
    rows.map((row) => row.getAttribute('data-check')),
  );
  assert.equal(first.length, 200);
  assert.equal(first[0], 'bulk-100', 'the one down comes first');
  assert.equal(await page.textContent('nav.pager .pager-rows'), `rows 1–200 of ${BULK + 1}`);
  assert.equal(await page.locator('nav.pager a[rel=prev]').count(), 0);
  const summary = await page.textContent('.summary');
  assert.match(summary ?? '', /^1 down, 0 degraded, 1 up, 204 unknown$/);
  await page.click('nav.pager a[rel=next]');
  await page.waitForURL(/page=2/);
  const second = await page.$$eval('table.status tbody tr', (rows) =>
    rows.map((row) => row.getAttribute('data-check')),
  );
  assert.equal(second.length, BULK + 1 - 200);
  assert.ok(
    second.every((id) => !first.includes(id)),
    'page two holds the rest',
  );
  assert.equal(await page.textContent('nav.pager .pager-rows'), `rows 201–${BULK + 1} of ${BULK + 1}`);
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-status-page-2.png'), fullPage: true });
  assert.equal(await page.textContent('.summary'), summary, 'the counts cover every row');
  assert.equal(await page.locator('nav.pager a[rel=next]').count(), 0);

  // With a filter: the pager's links keep it.
  await page.goto(`${base}/?lang=en&tag=bulk&kind=http`);
  assert.equal(await page.textContent('nav.pager .pager-rows'), `rows 1–200 of ${BULK}`);
  const next = new URL((await page.getAttribute('nav.pager a[rel=next]', 'href')) ?? '', base);
  assert.deepEqual(Object.fromEntries(next.searchParams), {
    lang: 'en',
    tag: 'bulk',
    kind: 'http',
    page: '2',
  });
  await page.goto(next.href);
  assert.equal(await page.locator('table.status tbody tr').count(), BULK - 200);
  const previous = new URL((await page.getAttribute('nav.pager a[rel=prev]', 'href')) ?? '', base);
  assert.equal(previous.searchParams.get('tag'), 'bulk');
  await context.close();

  // The refresh asks for the URL it is on: page two stays page two, and 304s when unchanged
  // (the bulk checks' page two).
  const headers = { ...auth, 'x-pathwatch-fragment': 'status-table' };
  const fragment = await fetch(`${base}/?lang=en&page=2`, { headers });
  const html = await fragment.text();
  assert.match(html, /data-page="2"/);
  assert.equal([...html.matchAll(/<tr data-check=/g)].length, BULK + 1 - 200);
  const bulkTwo = `${base}/?lang=en&tag=bulk&page=2`;
  let etag = '';
  let status = 0;
  // A second try only if the minute of "Updated 20:14 UTC" turned between the two requests.
  for (let attempt = 0; attempt < 2 && status !== 304; attempt++) {
    const table = await fetch(bulkTwo, { headers });
    assert.match(await table.text(), /data-page="2"/);
    etag = table.headers.get('etag') ?? '';
    status = (await fetch(bulkTwo, { headers: { ...headers, 'if-none-match': etag } })).status;
  }
  assert.equal(status, 304);
  // A page past the last shows the last; a page that is not a number is refused in one line.
  const past = await (await fetch(`${base}/?lang=en&page=99`, { headers })).text();
  assert.match(past, /data-page="2"/);
  for (const bad of ['abc', '0', '-1', '1.5']) {
    const response = await fetch(`${base}/?lang=en&page=${bad}`, { headers: auth });
    assert.equal(response.status, 400, bad);
    const body = await response.text();
    assert.match(
      body,
      new RegExp(
        `<p class="error" role="alert">page: expected a whole number from 1, got &quot;${bad.replace('.', '\\.')}&quot;</p>`,
      ),
    );
    assert.doesNotMatch(body, /<table class="status">/);
  }
});

test('assets come from @fastify/static (cache headers, ETag, 304) for the allow-listed files only; anything else under those folders is 404', async () => {
  const served: Array<[string, string, string]> = [
    ['/assets/console.css', 'text/css; charset=utf-8', 'src/console/console.css'],
    ['/assets/console.js', 'text/javascript; charset=utf-8', 'src/console/console.js'],
    ['/assets/console-check.js', 'text/javascript; charset=utf-8', 'src/console/console-check.js'],
    [
      '/assets/uplot.iife.min.js',
      'text/javascript; charset=utf-8',
      'node_modules/uplot/dist/uPlot.iife.min.js',
    ],
    ['/assets/uplot.min.css', 'text/css; charset=utf-8', 'node_modules/uplot/dist/uPlot.min.css'],
  ];
  for (const [url, type, file] of served) {
    const response = await fetch(`${base}${url}`);
    assert.equal(response.status, 200, url);
    assert.equal(response.headers.get('content-type'), type, url);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=300', url);
    assert.equal(await response.text(), readFileSync(join(process.cwd(), file), 'utf8'), url);
    const etag = response.headers.get('etag');
    assert.ok(etag, `${url} has an ETag`);
    const again = await rawGet(url, { 'if-none-match': etag });
    assert.equal(again.status, 304, url);
  }
  for (const path of [
    '/assets/../console-routes.ts',
    '/assets/%2e%2e/console-routes.ts',
    '/assets/console-routes.ts',
    '/assets/check-view.ts',
    '/assets/templates/layout.eta',
    '/assets/uPlot.iife.min.js',
    '/assets/uPlot.d.ts',
    '/assets/../../package.json',
    '/assets/',
  ]) {
    const response = await rawGet(path);
    assert.equal(response.status, 404, `${path} answered ${response.status}`);
    assert.doesNotMatch(response.body, /import |<%/, path);
  }
});
