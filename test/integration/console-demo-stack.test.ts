import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createApiToken } from '../../src/auth/api-token.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { consoleTranslator } from '../../src/console/console-messages.ts';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { CheckStateName } from '../../src/results/state-store.ts';
import type { VerdictName } from '../../src/results/verdict.ts';
import { createLogger } from '../../src/util/logger.ts';
import { type RunningStack, startStack } from '../../workers/start-stack.ts';
import { launchLoopbackChromium } from '../helpers/loopback-browser.ts';
import { startWorkerInNamespace } from '../helpers/namespace-worker.ts';
import { createTestNamespace } from '../helpers/network-namespace.ts';
import { parseCsv } from '../helpers/parse-csv.ts';
import { startTestRedisServer } from '../helpers/test-redis-server.ts';

/**
 * Issue 15, done when 1 and 2: every console page driven in real Chromium against a running
 * stack (API, scheduler, an inside worker here and an outside worker in a network namespace)
 * that watches the demo shop: one healthy check, one degraded (a slow shop), one broken (a shop
 * answering 500) and one broken outside path (the namespace's packets to that shop dropped).
 * What a person would check: the states, the verdicts, the map's broken path, a report whose
 * availability is the API's, a CSV that parses. A screenshot of each page in English and
 * Japanese is kept in test-artifacts/ (console-demo-<page>-<language>.png).
 */
const ARTIFACTS_DIR = join(process.cwd(), 'test-artifacts');
const LOCATIONS = ['inside', 'outside'];

test('the console against a running stack watching the demo shop: states, verdicts, the broken outside path, reports equal to the API, a CSV that parses; every page in English and Japanese', async (t) => {
  const namespace = createTestNamespace();
  if (typeof namespace === 'string') {
    t.skip(namespace);
    console.log(`# skipped: ${namespace}`);
    return;
  }
  const cleanups: Array<() => Promise<void> | void> = [() => namespace.remove()];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });

  // Redis and the shops listen on the host's end of the veth pair, reachable from both sides.
  const redisServer = await startTestRedisServer({ host: namespace.hostAddress });
  cleanups.push(() => redisServer.stop());
  const shops: Record<'healthy' | 'slow' | 'broken' | 'merchant', DemoShop> = {
    healthy: await startDemoShop({ host: namespace.hostAddress }),
    slow: await startDemoShop({ host: namespace.hostAddress }),
    broken: await startDemoShop({ host: namespace.hostAddress }),
    merchant: await startDemoShop({ host: namespace.hostAddress }),
  };
  for (const shop of Object.values(shops)) cleanups.push(() => shop.close());
  shops.slow.faults.delayMs = 300;
  shops.broken.faults.status500 = true;
  const url = (shop: DemoShop) => `http://${namespace.hostAddress}:${shop.port}/health`;
  const merchantTarget = `${namespace.hostAddress}:${shops.merchant.port}`;
  // The outside location cannot reach the merchant's shop: its packets are dropped.
  namespace.exec([
    'iptables',
    '-A',
    'OUTPUT',
    '-p',
    'tcp',
    '-d',
    namespace.hostAddress,
    '--dport',
    String(shops.merchant.port),
    '-j',
    'DROP',
  ]);

  const viewer = createApiToken();
  const operator = createApiToken();
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-console-demo-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const configFile = join(dir, 'pathwatch.config.yaml');
  writeFileSync(
    configFile,
    [
      'locations:',
      '  inside: {}',
      '  outside: {}',
      'defaults: { interval: 2s, timeout: 1500ms, retries: 0 }',
      'checks:',
      `  - { id: storefront, name: Storefront, kind: http, tags: [shop], http: { url: "${url(shops.healthy)}" } }`,
      `  - { id: catalogue, name: Catalogue API, kind: http, tags: [shop], http: { url: "${url(shops.slow)}", expect: { degradedResponseTime: 150ms, maxResponseTime: 1400ms } } }`,
      `  - { id: payments, name: Payments, kind: http, tags: [payments], http: { url: "${url(shops.broken)}" } }`,
      `  - { id: merchant-line, name: Merchant line, kind: http, tags: [payments], http: { url: "${url(shops.merchant)}" } }`,
      'redis: { prefix: pwconsoledemo }',
      `dataDir: ${join(dir, 'data')}`,
      'reports: { target: 99.5 }',
      'api:',
      '  host: 127.0.0.1',
      '  tokens:',
      `    - { name: wall-screen, hash: "${viewer.hash}", role: viewer }`,
      `    - { name: on-call, hash: "${operator.hash}", role: operator }`,
      '',
    ].join('\n'),
  );
  const config = await loadConfig(configFile);
  const recorder = new ResultsRecorder(redisServer.connection, config);

  const stack: RunningStack = await startStack({
    config,
    logger: createLogger('console-demo', 'silent'),
    roles: { api: true, scheduler: true, workerLocations: ['inside'] },
    redisUrl: redisServer.url,
    apiPort: 0,
  });
  cleanups.push(() => stack.stop());
  const base = String(stack.apiUrl).replace(/\/$/, '');
  const outside = startWorkerInNamespace(namespace, {
    location: 'outside',
    configFile,
    redisUrl: redisServer.url,
  });
  cleanups.push(() => outside.stop());

  // Until every check has been judged as the shops make it: then the pages have something to say.
  const wanted: Record<string, { verdict: VerdictName; states: Record<string, CheckStateName> }> = {
    storefront: { verdict: 'ok', states: { inside: 'UP', outside: 'UP' } },
    catalogue: { verdict: 'ok', states: { inside: 'DEGRADED', outside: 'DEGRADED' } },
    payments: { verdict: 'service', states: { inside: 'DOWN', outside: 'DOWN' } },
    'merchant-line': { verdict: 'outside-path', states: { inside: 'UP', outside: 'DOWN' } },
  };
  const judged = async () => {
    const seen: Record<string, unknown> = {};
    let all = true;
    for (const [id, want] of Object.entries(wanted)) {
      const verdict = (await recorder.verdict(id, LOCATIONS)).verdict;
      const states = Object.fromEntries(
        await Promise.all(
          LOCATIONS.map(async (location) => [location, (await recorder.states.get(id, location)).state]),
        ),
      );
      seen[id] = { verdict, states };
      if (
        verdict !== want.verdict ||
        LOCATIONS.some((location) => states[location] !== want.states[location])
      )
        all = false;
    }
    return { all, seen };
  };
  let last: Awaited<ReturnType<typeof judged>> | undefined;
  for (let attempt = 0; attempt < 120 && !last?.all; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    last = await judged();
  }
  assert.ok(last?.all, `the stack never judged the shops as set up; last: ${JSON.stringify(last?.seen)}`);

  const browser = await launchLoopbackChromium();
  cleanups.push(() => browser.close());
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const elsewhere: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) elsewhere.push(request.url());
  });
  const shot = (name: string, language: string) =>
    page.screenshot({ path: join(ARTIFACTS_DIR, `console-demo-${name}-${language}.png`), fullPage: true });

  // Sign in as a person does: the status page first answers with the sign-in form.
  await page.goto(`${base}/?lang=ja`);
  assert.equal(await page.textContent('h1'), consoleTranslator('ja')('signInTitle'));
  await shot('signin', 'ja');
  await page.goto(`${base}/?lang=en`);
  await shot('signin', 'en');
  await page.fill('input[name=token]', operator.token);
  await page.click('form[action="/signin"] button[type=submit]');
  await page.waitForSelector('table.status');

  for (const language of ['en', 'ja'] as const) {
    const t = consoleTranslator(language);

    // Status: each check's state per location and its verdict, as the stack judged them.
    await page.goto(`${base}/?lang=${language}`);
    assert.equal(await page.textContent('h1'), t('statusTitle'));
    for (const [id, want] of Object.entries(wanted)) {
      const row = page.locator(`table.status tr[data-check="${id}"]`);
      for (const location of LOCATIONS) {
        assert.equal(
          await row.locator(`td[data-location="${location}"]`).getAttribute('data-state'),
          want.states[location],
          `${id} at ${location}`,
        );
      }
      assert.equal(
        (await row.locator('td.verdict').textContent())?.trim(),
        t(`verdict_${want.verdict}`),
        `${id}'s verdict`,
      );
    }
    // Worst first: the two failing checks lead.
    const order = await page.$$eval('table.status tbody tr', (rows) =>
      rows.map((row) => row.getAttribute('data-check')),
    );
    assert.deepEqual(new Set(order.slice(0, 2)), new Set(['payments', 'merchant-line']), order.join(' '));
    await shot('status', language);

    // Map: the outside path to the merchant's shop is drawn broken, the inside one is not;
    // clicking it lists the checks failing on it.
    await page.goto(`${base}/map?lang=${language}`);
    assert.equal(await page.textContent('h1'), t('mapTitle'));
    const outsidePath = page.locator(`#live svg a.edge[data-path="outside~${merchantTarget}"]`);
    const insidePath = page.locator(`#live svg a.edge[data-path="inside~${merchantTarget}"]`);
    assert.equal(await outsidePath.getAttribute('data-state'), 'DOWN');
    assert.equal(await insidePath.getAttribute('data-state'), 'UP');
    // The storefront is reached over the line from outside: the line works, the fault is beyond it.
    assert.equal(await page.getAttribute('#live svg g.line', 'data-state'), 'UP');
    await shot('map', language);
    // Clicked where a person would: on the line itself, near the shop (the start of every
    // outside path is the same stretch to the line).
    await outsidePath.scrollIntoViewIfNeeded();
    const point = await outsidePath.locator('path.edge-hit').evaluate((path: SVGPathElement) => {
      const at = path.getPointAtLength(path.getTotalLength() * 0.9);
      const matrix = path.getScreenCTM() as DOMMatrix;
      return {
        x: at.x * matrix.a + at.y * matrix.c + matrix.e,
        y: at.x * matrix.b + at.y * matrix.d + matrix.f,
      };
    });
    await Promise.all([page.waitForURL(/path=outside/), page.mouse.click(point.x, point.y)]);
    const onPath = await page.$$eval('table.status tbody tr', (rows) =>
      rows.map((row) => row.getAttribute('data-check')),
    );
    assert.deepEqual(onPath, ['merchant-line'], 'the path lists the one check on it');
    const columns = await page.$$eval('table.status thead th', (cells) =>
      cells.map((cell) => cell.textContent?.trim()),
    );
    assert.ok(columns.includes('outside') && !columns.includes('inside'), columns.join('|'));

    // Check page: the degraded check, state per location, charts drawn by uPlot.
    await page.goto(`${base}/checks/catalogue?lang=${language}`);
    assert.equal((await page.textContent('h1'))?.includes('Catalogue API'), true);
    for (const location of LOCATIONS) {
      assert.match(
        (await page.textContent(`table.availability tr[data-location="${location}"] td.cell`)) ?? '',
        new RegExp(t('stateDEGRADED')),
      );
    }
    await page.waitForSelector('#latency-chart canvas');
    assert.ok((await page.locator('table.runs tbody tr, tr[data-run]').count()) > 0, 'runs are listed');
    await shot('check', language);
    // A run opens from the list with the browser's session, as the rest of the console does.
    const runHref = await page.getAttribute('tr[data-run] a', 'href');
    const runPage = await page.goto(new URL(String(runHref), base).toString());
    assert.equal(runPage?.status(), 200);

    // Reports: the day's availability per check and location is the API's, row for row.
    await page.goto(`${base}/reports?lang=${language}&period=day`);
    assert.equal(await page.textContent('h1'), t('reportsTitle'));
    const api = (await (await page.request.get(`${base}/api/v1/reports?period=day`)).json()) as {
      checks: Array<{ id: string; locations: Array<{ location: string; availability?: number }> }>;
    };
    for (const check of api.checks) {
      for (const row of check.locations) {
        const shown = await page.textContent(
          `tr[data-check="${check.id}"][data-location="${row.location}"] .availability-value`,
        );
        assert.equal(
          shown,
          row.availability === undefined ? '–' : `${row.availability.toFixed(3)} %`,
          `${check.id} at ${row.location}`,
        );
      }
    }
    const availability = (id: string, location: string) =>
      api.checks.find((check) => check.id === id)?.locations.find((row) => row.location === location)
        ?.availability;
    assert.equal(availability('storefront', 'inside'), 100);
    assert.equal(availability('payments', 'outside'), 0);
    assert.equal(availability('merchant-line', 'inside'), 100);
    assert.equal(availability('merchant-line', 'outside'), 0);
    await shot('reports', language);

    // The CSV behind the page's link, opened with the browser's session: it parses, and holds
    // a row per check and location (and each check's total) with the API's availability.
    const csvHref = await page.getAttribute('a.csv', 'href');
    const csv = await page.request.get(new URL(String(csvHref), base).toString());
    assert.equal(csv.status(), 200);
    const rows = parseCsv(await csv.text());
    const header = rows[0];
    assert.equal(header[0], 'check');
    const column = (name: string) => header.indexOf(name);
    assert.equal(rows.length - 1, Object.keys(wanted).length * (LOCATIONS.length + 1));
    for (const row of rows.slice(1)) {
      assert.equal(row.length, header.length, row.join(','));
      if (row[column('location')] === 'all') continue;
      const expected = availability(row[column('check')], row[column('location')]);
      assert.equal(Number(row[column('availability_percent')]), expected, row.join(','));
    }

    // Captures: the operator's page, listing what the stack keeps (no capture configured here).
    const captures = await page.goto(`${base}/captures?lang=${language}`);
    assert.equal(captures?.status(), 200);
    await shot('captures', language);
  }
  assert.deepEqual(elsewhere, [], 'no request leaves the API');
  await context.close();
});
