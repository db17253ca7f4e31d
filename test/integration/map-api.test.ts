import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { DomUtils, parseDocument } from 'htmlparser2';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { type LoadedConfig, parseConfig } from '../../src/config/load-config.ts';
import type { MapEdge, MapGraph, MapLineNode, MapTargetNode } from '../../src/map/map-graph.ts';
import { EDGE_STYLE } from '../../src/map/render-map-svg.ts';
import { createRedisConnection, waitUntilReady } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { launchLoopbackChromium } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { REPO_ROOT } from '../helpers/run-cli.ts';

const prefixes: string[] = [];
let redis: Redis;

before(() => {
  redis = createRedisConnection(SHARED_REDIS_URL);
});

after(async () => {
  redis.disconnect();
  for (const prefix of prefixes) await deleteKeysWithPrefix(prefix);
});

const HOSTILE = `Login </text><script>alert("x")</script> & 'co'`;
const SHOP = 'http://127.0.0.1:4601';

function run(
  checkId: string,
  location: string,
  status: 'pass' | 'fail' | 'degraded',
  at: number,
  prefix: string,
): RunResult {
  return {
    runId: `${prefix}-${checkId}-${location}-${at}`,
    checkId,
    kind: 'http',
    location,
    startedAt: at,
    finishedAt: at + 5,
    attempt: 1,
    status,
    phases: { total: 5 },
    peers: [],
    ...(status === 'fail'
      ? {
          error: {
            class: 'timeout',
            code: 'CONNECT_TIMEOUT',
            message: `connect to 127.0.0.1:4601 timed out after 5000 ms (${checkId})`,
          },
        }
      : {}),
  } as RunResult;
}

/**
 * The demo's shape: a shop checked from inside and outside, its login page among them (with
 * a hostile name), a payment service named in Japanese, and a mail server. The shop's health
 * check fails only from outside: a broken outside path.
 */
async function brokenOutsidePath(): Promise<{
  config: LoadedConfig;
  recorder: ResultsRecorder;
  app: FastifyInstance;
}> {
  const prefix = uniquePrefix('map-api');
  prefixes.push(prefix);
  const config = await parseConfig(
    {
      locations: {
        inside: { description: 'inside the data centre' },
        outside: { description: 'a cloud region' },
      },
      checks: [
        { id: 'shop-health', name: 'Shop health', kind: 'http', http: { url: `${SHOP}/health` } },
        { id: 'shop-login', name: HOSTILE, kind: 'http', http: { url: `${SHOP}/login` } },
        { id: 'pay', name: '決済サービス', kind: 'http', http: { url: 'http://127.0.0.2:8443/pay' } },
        {
          id: 'mail',
          name: 'Mail',
          kind: 'smtp',
          locations: ['inside'],
          smtp: { host: '127.0.0.3', port: 25 },
        },
      ],
      redis: { prefix },
    },
    '/tmp/map-api.yaml',
  );
  const recorder = new ResultsRecorder(redis, config);
  const stops = [recorder.workers.start('inside'), recorder.workers.start('outside')];
  const now = Date.now();
  const outcomes: Array<[string, string, 'pass' | 'fail' | 'degraded']> = [
    ['shop-health', 'inside', 'pass'],
    ['shop-health', 'outside', 'fail'],
    ['shop-login', 'inside', 'pass'],
    ['shop-login', 'outside', 'pass'],
    ['pay', 'inside', 'pass'],
    ['pay', 'outside', 'degraded'],
    ['mail', 'inside', 'pass'],
  ];
  for (const [index, [checkId, location, status]] of outcomes.entries()) {
    await recorder.recordRun(run(checkId, location, status, now - 1000 + index, prefix), {
      counted: true,
      policy: { downAfter: 1, upAfter: 1 },
      locations: ['inside', 'outside'],
    });
  }
  const app = await buildApp({ config, recorder });
  after(async () => {
    await app.close();
    for (const stop of stops) await stop();
  });
  return { config, recorder, app };
}

test('GET /api/v1/map: a broken outside path is DOWN from outside, UP from inside; the line, which carries another path, is not blamed', async () => {
  const { app, recorder } = await brokenOutsidePath();
  const response = await app.inject({ url: '/api/v1/map' });
  assert.equal(response.statusCode, 200, response.body);
  const graph = response.json() as MapGraph;
  const edges = new Map(graph.edges.map((edge: MapEdge) => [edge.id, edge]));

  const broken = edges.get('outside~127.0.0.1:4601')!;
  assert.equal(broken.state, 'DOWN');
  assert.equal(broken.via, 'line');
  assert.equal(broken.href, '/?path=outside~127.0.0.1:4601');
  assert.deepEqual(
    broken.failing.map((check) => [check.id, check.state]),
    [['shop-health', 'DOWN']],
  );
  assert.match(broken.failing[0].lastError ?? '', /connect to 127\.0\.0\.1:4601 timed out/);
  assert.deepEqual(
    broken.checks.map((check) => [check.id, check.state]),
    [
      ['shop-health', 'DOWN'],
      ['shop-login', 'UP'],
    ],
  );
  const inside = edges.get('inside~127.0.0.1:4601')!;
  assert.equal(inside.state, 'UP');
  assert.deepEqual(inside.failing, []);
  assert.equal(edges.get('outside~127.0.0.2:8443')?.state, 'DEGRADED');
  assert.equal(edges.get('inside~127.0.0.3:25')?.state, 'UP');
  assert.equal(edges.has('outside~127.0.0.3:25'), false, 'mail runs inside only');

  const shop = graph.nodes.find((node) => node.id === '127.0.0.1:4601') as MapTargetNode;
  const verdict = await recorder.verdict('shop-health', ['inside', 'outside']);
  assert.equal(verdict.verdict, 'outside-path', 'the recorder judges it so');
  assert.equal(shop.verdict, 'outside-path');
  assert.equal(shop.summary, verdict.summary);
  assert.equal(shop.name, `Shop health, ${HOSTILE}`);
  assert.equal(shop.state, 'DOWN');
  const line = graph.nodes.find((node) => node.type === 'line') as MapLineNode;
  assert.deepEqual(line.brokenFor, ['127.0.0.1:4601']);
  // outside → 127.0.0.2:8443 works (degraded): it crosses the line, so the fault lies beyond it.
  assert.equal(line.state, 'UP');
  const locations = graph.nodes.filter((node) => node.type === 'location');
  assert.deepEqual(
    locations.map((node) => [node.id, node.side, node.live, node.description]),
    [
      ['inside', 'inside', true, 'inside the data centre'],
      ['outside', 'outside', true, 'a cloud region'],
    ],
  );
});

test('GET /api/v1/map.svg parses, escapes hostile names, speaks Japanese, refuses an unknown lang', async () => {
  const { app } = await brokenOutsidePath();
  const response = await app.inject({ url: '/api/v1/map.svg?lang=ja' });
  assert.equal(response.statusCode, 200, response.body);
  assert.match(String(response.headers['content-type']), /^image\/svg\+xml; charset=utf-8/);
  assert.equal(response.headers['content-language'], 'ja');
  const document = parseDocument(response.body, { xmlMode: true });
  const all = DomUtils.getElementsByTagName(() => true, document.children, true);
  assert.equal(all.filter((element) => element.name === 'script').length, 0, 'the hostile name is text');
  const texts = all
    .filter((element) => element.name === 'text')
    .map((element) => DomUtils.textContent(element));
  for (const label of ['経路マップ', '外側', '回線', '決済サービス']) assert.ok(texts.includes(label), label);
  assert.ok(
    texts.some((text) => text.includes('</text><script>')),
    'shown as written',
  );
  const edge = all.find(
    (element) => element.name === 'a' && element.attribs['data-path'] === 'outside~127.0.0.1:4601',
  );
  assert.ok(edge, 'the broken path is a link');
  assert.equal(edge.attribs.href, '/?path=outside~127.0.0.1:4601');
  const path = DomUtils.getElementsByTagName('path', edge.children, true)[0];
  assert.equal(path.attribs.stroke, EDGE_STYLE.DOWN.stroke);
  const title = DomUtils.textContent(DomUtils.getElementsByTagName('title', edge.children, true)[0]);
  assert.match(
    title,
    /失敗中:\n• Shop health \(shop-health, 停止\) — connect to 127\.0\.0\.1:4601 timed out/,
  );

  const english = await app.inject({ url: '/api/v1/map.svg' });
  assert.equal(english.headers['content-language'], 'en');
  assert.match(english.body, /Map of paths/);
  const refused = await app.inject({ url: '/api/v1/map.svg?lang=fr' });
  assert.equal(refused.statusCode, 400);
  assert.match(refused.json().error.message, /query parameter "lang" must be "en" or "ja", got "fr"/);
});

test('the map in Chromium: the broken path is drawn red, clicking it opens its checks; screenshots kept', async (t) => {
  const { app } = await brokenOutsidePath();
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchLoopbackChromium();
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 820, height: 600 } });
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));
  const artifacts = join(REPO_ROOT, 'test-artifacts');
  mkdirSync(artifacts, { recursive: true });
  for (const language of ['ja', 'en'] as const) {
    await page.goto(`${address}/api/v1/map.svg?lang=${language}`);
    const stroke = await page
      .locator('a[data-path="outside~127.0.0.1:4601"] path.edge-line')
      .evaluate((element) => getComputedStyle(element).stroke);
    assert.equal(stroke, 'rgb(211, 47, 47)', `${EDGE_STYLE.DOWN.stroke}, as the browser draws it`);
    const upStroke = await page
      .locator('a[data-path="inside~127.0.0.1:4601"] path.edge-line')
      .evaluate((element) => getComputedStyle(element).stroke);
    assert.equal(upStroke, 'rgb(46, 125, 50)');
    const box = await page.locator('g.target[data-id="127.0.0.1:4601"] rect').boundingBox();
    assert.ok(box && box.width > 100, 'the target is drawn');
    // fullPage never finishes on an SVG document here: size the viewport to the drawing instead.
    const size = await page
      .locator('svg')
      .first()
      .evaluate((svg) => ({
        width: Number(svg.getAttribute('width')),
        height: Number(svg.getAttribute('height')),
      }));
    await page.setViewportSize({ width: size.width, height: Math.min(size.height, 4000) });
    await page.screenshot({ path: join(artifacts, language === 'en' ? 'map.png' : 'map-ja.png') });
  }
  assert.deepEqual(
    requested.map((url) => new URL(url).pathname),
    ['/api/v1/map.svg', '/api/v1/map.svg'],
    'nothing else is loaded: no font, no script, no image',
  );
  // Where a person would click: on the line itself, halfway along it.
  const point = await page
    .locator('a[data-path="outside~127.0.0.1:4601"] path.edge-line')
    .evaluate((element) => {
      const path = element as SVGPathElement;
      const middle = path.getPointAtLength(path.getTotalLength() / 2);
      const matrix = path.getScreenCTM()!;
      return { x: middle.x * matrix.a + matrix.e, y: middle.y * matrix.d + matrix.f };
    });
  await page.mouse.click(point.x, point.y);
  await page.waitForURL((url) => url.pathname === '/' && url.searchParams.has('path'));
  assert.equal(new URL(page.url()).searchParams.get('path'), 'outside~127.0.0.1:4601');
});

test('1,000 checks × 2 locations: the map JSON is quick (figure reported, not asserted)', async (t) => {
  const prefix = uniquePrefix('map-bench');
  prefixes.push(prefix);
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: Array.from({ length: 1000 }, (_, index) => ({
        id: `c${index}`,
        name: `Check ${index}`,
        kind: 'http',
        http: { url: `http://127.0.${Math.floor(index / 250)}.${1 + (index % 250)}:8000/p${index}` },
      })),
      redis: { prefix },
    },
    '/tmp/map-bench.yaml',
  );
  // The API's own kind of connection (start-stack.ts: fail-fast, no auto-pipelining).
  const connection = createRedisConnection(SHARED_REDIS_URL, { failFast: true });
  t.after(() => connection.disconnect());
  await waitUntilReady(connection);
  const recorder = new ResultsRecorder(connection, config);
  const now = Date.now();
  await Promise.all(
    config.checks.flatMap((check, index) =>
      ['inside', 'outside'].map((location) =>
        recorder.recordRun(
          run(check.id, location, index % 97 === 0 && location === 'outside' ? 'fail' : 'pass', now, prefix),
          { counted: true, policy: { downAfter: 1, upAfter: 1 }, locations: ['inside', 'outside'] },
        ),
      ),
    ),
  );
  const app = await buildApp({ config, recorder, redis: connection });
  t.after(() => app.close());
  const timings: number[] = [];
  let graph: MapGraph | undefined;
  for (let round = 0; round < 7; round++) {
    const started = performance.now();
    const response = await app.inject({ url: '/api/v1/map' });
    timings.push(performance.now() - started);
    assert.equal(response.statusCode, 200);
    graph = response.json() as MapGraph;
  }
  assert.equal(graph!.edges.length, 1000 * 2, '1,000 distinct targets, each from both locations');
  assert.equal(graph!.edges.filter((edge) => edge.state === 'DOWN').length, 11);
  const sorted = [...timings].sort((a, b) => a - b);
  const svgStarted = performance.now();
  const svg = await app.inject({ url: '/api/v1/map.svg' });
  const svgMs = performance.now() - svgStarted;
  assert.equal(svg.statusCode, 200);
  t.diagnostic(
    `GET /api/v1/map, 1,000 checks × 2 locations: median ${sorted[3].toFixed(1)} ms, first ${timings[0].toFixed(1)} ms, best ${sorted[0].toFixed(1)} ms; ` +
      `map.svg ${svgMs.toFixed(1)} ms, ${(svg.body.length / 1024).toFixed(0)} KiB`,
  );
});
