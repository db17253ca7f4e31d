import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright';
import { type CaptureRequest, openCaptureRequestQueue } from '../../capture/capture-request-worker.ts';
import { buildApp } from '../../src/api/build-app.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { type LoadedConfig, parseConfig } from '../../src/config/load-config.ts';
import { captureFilePath, signCaptureFile } from '../../src/console/capture-file-link.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { runRecord, writeSyntheticPcap } from '../helpers/evidence-app.ts';
import { launchLoopbackChromium } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 15, the Captures page: an operator lists run slices and periodic collections newest
 * first, filters them, downloads a pcap through a link signed for that one file (refused
 * changed or expired), and asks a slice's host for an unfiltered capture (a real BullMQ job
 * on the shared Redis), which a post from another origin cannot do; a viewer sees no link to
 * the page and is refused it. Screenshots in test-artifacts/.
 */
const prefix = uniquePrefix('console-captures');
const dir = mkdtempSync(join(tmpdir(), 'pw-console-captures-'));
const ARTIFACTS_DIR = join(process.cwd(), 'test-artifacts');
const LINK_KEY = randomBytes(32);
const operator = createApiToken();
const viewer = createApiToken();
const HOUR = 3_600_000;
const T0 = Date.now() - 60_000;
const COLLECTION_STAMP = new Date(T0 - 1.5 * HOUR).toISOString().replace(/[-:]/g, '');
const COLLECTION_FILE = `${COLLECTION_STAMP}.pcap`;
let redis: Redis;
let config: LoadedConfig;
let app: FastifyInstance;
let openApp: FastifyInstance;
let base: string;
let browser: Browser;
let slice: Buffer;
let collection: Buffer;
let elsewhere: Server;
const queues = new Map<string, Queue<CaptureRequest>>();
const queueOf = (host: string) => {
  let queue = queues.get(host);
  if (!queue) {
    queue = openCaptureRequestQueue(host, redis, prefix);
    queues.set(host, queue);
  }
  return queue;
};

before(async () => {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  redis = createRedisConnection(SHARED_REDIS_URL);
  const raw = {
    locations: { inside: {}, outside: {} },
    checks: [
      { id: 'shop', name: 'Shop health', kind: 'http', http: { url: 'http://127.0.0.1:1/health' } },
      { id: 'api', kind: 'tcp', locations: ['inside'], tcp: { host: '127.0.0.1', port: 1 } },
    ],
    redis: { prefix },
    dataDir: join(dir, 'data'),
    api: {
      tokens: [
        { name: 'on-call', hash: operator.hash, role: 'operator' },
        { name: 'wall-screen', hash: viewer.hash, role: 'viewer' },
      ],
    },
  };
  config = await parseConfig(raw, join(dir, 'pathwatch.yaml'));
  const recorder = new ResultsRecorder(redis, config);
  const store = new FilesystemArtifactStore(join(dir, 'artifacts'));
  const pcapPath = join(dir, 'slice.pcap');
  await writeSyntheticPcap(pcapPath, 200_000);
  slice = readFileSync(pcapPath);
  collection = readFileSync(new URL('../fixtures/pcap/tls-protocol-version-sll2.pcap', import.meta.url));
  const evidenceOf = async (runId: string, data: Buffer) => {
    const pcap = await store.put(`runs/${runId}/capture.pcap`, data, 'application/vnd.tcpdump.pcap');
    const text = await store.put(
      `runs/${runId}/capture-analysis.txt`,
      Buffer.from('diagnosis\n'),
      'text/plain',
    );
    // A trace beside it: a capture link must never open it.
    const trace = await store.put(`runs/${runId}/trace.zip`, Buffer.from('trace'), 'application/zip');
    return [
      { kind: 'pcap', key: pcap.key, bytes: pcap.bytes },
      { kind: 'analysis', key: text.key, bytes: text.bytes },
      { kind: 'trace', key: trace.key, bytes: trace.bytes },
    ];
  };
  const save = async (runId: string, startedAt: number, fields: Partial<Parameters<typeof runRecord>[0]>) =>
    recorder.runs.save(
      runRecord({ runId, startedAt, status: 'fail', artifacts: await evidenceOf(runId, slice), ...fields }),
    );
  await save('s1', T0 - 3 * HOUR, {});
  await save('s2', T0 - 2 * HOUR, { location: 'outside', host: 'probe-out' });
  await save('s3', T0 - HOUR, { checkId: 'api', kind: 'tcp' });
  await save('s4', T0 - 4 * HOUR, { host: undefined });
  await recorder.runs.save(runRecord({ runId: 'p1', startedAt: T0 - 30 * 60_000 }));
  await store.put(`captures/hourly/${COLLECTION_FILE}`, collection, 'application/vnd.tcpdump.pcap');
  const requestCapture = async (run: { runId: string; host?: string }, unfiltered: boolean) => {
    // What start-stack.ts does: a job on the capture queue of the host that ran the run.
    const job = await queueOf(run.host ?? 'none').add('capture', { runId: run.runId, unfiltered });
    return job.id ?? '';
  };
  app = await buildApp({ config, recorder, redis, artifacts: store, linkKey: LINK_KEY, requestCapture });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  // The same installation without tokens: an open API never hands out unfiltered captures.
  const open = await parseConfig({ ...raw, api: {} }, join(dir, 'pathwatch.yaml'));
  openApp = await buildApp({ config: open, recorder, artifacts: store, linkKey: LINK_KEY, requestCapture });
  // Another origin on the same host (same site: the SameSite=Strict cookie goes along).
  elsewhere = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(
      `<form id="f" method="post" action="${base}/captures?lang=en"><input type="hidden" name="runId" value="s1"></form><script>document.getElementById('f').submit()</script>`,
    );
  });
  await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  browser = await launchLoopbackChromium();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => elsewhere?.close(resolve));
  await app?.close();
  await openApp?.close();
  for (const queue of queues.values()) await queue.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** A browser context signed in with `token` through the form, on `path`; requests off loopback listed. */
async function signedIn(token: string, path: string, locale = 'en-US') {
  const context = await browser.newContext({ locale, acceptDownloads: true });
  const page = await context.newPage();
  const offsite: string[] = [];
  page.on('request', (request) => {
    if (!request.url().startsWith('http://127.0.0.1:')) offsite.push(request.url());
  });
  const first = await page.goto(`${base}/signin?next=${encodeURIComponent(path)}`);
  assert.equal(first?.status(), 200);
  await page.fill('input[name=token]', token);
  await Promise.all([page.waitForURL(`${base}${path}`), page.click('button[type=submit]')]);
  return { context, page, offsite };
}

const cookieOf = async (context: BrowserContext) =>
  (await context.cookies()).map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');

const rowsOf = (page: Page) =>
  page.$$eval('table.captures tbody tr', (trs) =>
    trs.map(
      (tr) =>
        `${tr.getAttribute('data-type')}:${tr.getAttribute('data-run') || tr.getAttribute('data-collection')}`,
    ),
  );

test('without a session the page is the sign-in form (401); a viewer sees no Captures link and is refused the page (403)', async () => {
  const anonymous = await fetch(`${base}/captures?lang=en`);
  assert.equal(anonymous.status, 401);
  assert.match(await anonymous.text(), /<form method="post" action="\/signin"/);
  const { context, page } = await signedIn(viewer.token, '/?lang=en');
  assert.deepEqual(await page.$$eval('header nav a', (links) => links.map((link) => link.textContent)), [
    'Status',
    'Map',
    'Reports',
  ]);
  const refused = await page.goto(`${base}/captures?lang=en`);
  assert.equal(refused?.status(), 403);
  assert.equal(
    (await page.textContent('p.refused'))?.trim(),
    'This page needs the operator role; the token "wall-screen" has the viewer role. Captures hold the packets of the runs they were cut for.',
  );
  assert.equal(await page.$('table.captures'), null);
  // Nor a file, nor an unfiltered capture, asked for directly with the viewer's cookie.
  const cookie = await cookieOf(context);
  const file = await fetch(`${base}/captures/files/run/s1/capture.pcap`, { headers: { cookie } });
  assert.equal(file.status, 403);
  const post = await fetch(`${base}/captures`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', origin: base },
    body: 'runId=s1',
  });
  assert.equal(post.status, 403);
  await context.close();
});

test('an operator sees slices and the collection newest first, with run links; filters narrow; bad filters are one line (400)', async () => {
  const { context, page, offsite } = await signedIn(operator.token, '/captures?lang=en');
  const navCaptures = await page.$('header nav a[href="/captures?lang=en"]');
  assert.equal(await navCaptures?.getAttribute('aria-current'), 'page');
  assert.deepEqual(await rowsOf(page), ['slice:s3', 'collection:hourly', 'slice:s2', 'slice:s1', 'slice:s4']);
  const s1 = page.locator('tr[data-run=s1]');
  const cells = await s1.locator('td').allTextContents();
  assert.equal(cells[0], `${new Date(T0 - 3 * HOUR).toISOString().slice(0, 19).replace('T', ' ')} UTC`);
  assert.deepEqual(cells.slice(1, 6), [
    'slice',
    'Shop health',
    'inside',
    's1',
    `${Math.round(slice.length / 1024)} KB`,
  ]);
  assert.equal(await s1.locator('a.run').getAttribute('href'), '/runs/s1?lang=en');
  const runPage = await page.goto(`${base}/runs/s1?lang=en`);
  assert.equal(runPage?.status(), 200);
  await page.goBack();
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-captures-en.png'), fullPage: true });

  await page.selectOption('select[name=check]', 'shop');
  await Promise.all([page.waitForURL(/check=shop/), page.click('form.filters button')]);
  assert.deepEqual(await rowsOf(page), ['slice:s2', 'slice:s1', 'slice:s4']);
  await page.selectOption('select[name=check]', '');
  await page.selectOption('select[name=type]', 'collection');
  await Promise.all([page.waitForURL(/type=collection/), page.click('form.filters button')]);
  assert.deepEqual(await rowsOf(page), ['collection:hourly']);
  await page.selectOption('select[name=type]', 'slice');
  await page.selectOption('select[name=location]', 'inside');
  const hourOf = (at: number) => new Date(at).toISOString().slice(0, 16);
  await page.fill('input[name=from]', hourOf(T0 - 3.5 * HOUR));
  await page.fill('input[name=to]', hourOf(T0 - 0.5 * HOUR));
  await Promise.all([page.waitForURL(/from=/), page.click('form.filters button')]);
  assert.deepEqual(await rowsOf(page), ['slice:s3', 'slice:s1']);

  for (const [query, line] of [
    [
      'from=yesterday',
      'Filter "from" must be a time in UTC such as 2026-12-07T14:00 (or ISO 8601 with a zone, or epoch milliseconds); got "yesterday".',
    ],
    ['check=nope', 'Filter "check" must be the id of a check or journey (shop, api); got "nope".'],
    ['location=moon', 'Filter "location" must be a declared location (inside, outside); got "moon".'],
    ['type=pcap', 'Filter "type" must be slice or collection; got "pcap".'],
    [
      'from=2026-12-07T12:00&to=2026-12-07T10:00',
      'Filter "from" must not be later than "to"; got "2026-12-07T12:00".',
    ],
  ]) {
    const response = await page.goto(`${base}/captures?lang=en&${query}`);
    assert.equal(response?.status(), 400, query);
    assert.equal((await page.textContent('#filter-problem'))?.trim(), line, query);
    assert.doesNotMatch(await page.content(), /at \w+ \(|Error:/, 'no stack trace');
    assert.equal(await page.$('table.captures'), null);
  }
  assert.deepEqual(offsite, []);
  await context.close();
});

test('a download link fetches the pcap in the browser and alone; changed, moved or expired links are refused', async () => {
  const { context, page } = await signedIn(operator.token, '/captures?lang=en');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('tr[data-run=s1] a.download'),
  ]);
  assert.equal(download.suggestedFilename(), 's1-capture.pcap');
  assert.ok(readFileSync((await download.path())!).equals(slice), 'the slice, byte for byte');

  // The link itself grants the file: no cookie, no token, for ten minutes.
  const href = (await page.getAttribute('tr[data-collection=hourly] a.download', 'href'))!;
  const exp = Number(new URL(href, base).searchParams.get('exp')) * 1000;
  assert.ok(
    exp > Date.now() + 9 * 60_000 && exp <= Date.now() + 10 * 60_000,
    `expires in 10 minutes: ${exp}`,
  );
  const plain = await fetch(`${base}${href}`);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers.get('content-type'), 'application/vnd.tcpdump.pcap');
  assert.ok(Buffer.from(await plain.arrayBuffer()).equals(collection), 'the collection, byte for byte');
  const ranged = await fetch(`${base}${href}`, { headers: { range: 'bytes=0-23' } });
  assert.equal(ranged.status, 206);
  assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(collection.subarray(0, 24)));

  const sliceHref = (await page.getAttribute('tr[data-run=s1] a.download', 'href'))!;
  const sig = new URL(sliceHref, base).searchParams.get('sig')!;
  const changed = sliceHref.replace(sig, `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`);
  for (const [label, url] of [
    ['a changed signature', changed],
    ['another run', sliceHref.replace('/run/s1/', '/run/s2/')],
    ["the run's trace", sliceHref.replace('capture.pcap', 'trace.zip')],
    ['a later expiry', sliceHref.replace(/exp=\d+/, `exp=${Math.floor(exp / 1000) + 86_400}`)],
    ['no signature', sliceHref.replace(/&sig=.*$/, '')],
  ]) {
    const response = await fetch(`${base}${url}`);
    assert.equal(response.status, 403, label);
    assert.match(await response.text(), /This download link is not valid \(changed or cut short\)\./, label);
  }
  const file = { source: 'run', id: 's1', name: 'capture.pcap' } as const;
  const expired = await fetch(
    `${base}${captureFilePath(file, signCaptureFile(LINK_KEY, file, Date.now() - 1000))}`,
  );
  assert.equal(expired.status, 410);
  assert.match(
    await expired.text(),
    /This download link has expired \(links on the Captures page last 10 minutes\)/,
  );
  // A genuine link for a trace (which the page never makes) still opens nothing but captures.
  const trace = { source: 'run', id: 's1', name: 'trace.zip' } as const;
  const traceLink = await fetch(
    `${base}${captureFilePath(trace, signCaptureFile(LINK_KEY, trace, Date.now() + 60_000))}`,
  );
  assert.equal(traceLink.status, 404);
  // A signed-in operator opens files without a link, captures only.
  const cookie = await cookieOf(context);
  const direct = await fetch(`${base}/captures/files/run/s1/capture.pcap`, { headers: { cookie } });
  assert.equal(direct.status, 200);
  assert.equal((await fetch(`${base}/captures/files/run/s1/trace.zip`, { headers: { cookie } })).status, 404);
  await context.close();
});

test('an operator asks for an unfiltered capture of a slice run: a job is queued, and the page says which', async () => {
  const { context, page } = await signedIn(operator.token, '/captures?lang=en');
  assert.match(
    (await page.textContent('#unfiltered-note')) ?? '',
    /you can ask its host for an unfiltered capture/,
  );
  const [response] = await Promise.all([
    page.waitForResponse((answer) => answer.request().method() === 'POST'),
    page.click('tr[data-run=s2] form.unfiltered button'),
  ]);
  assert.equal(response.status(), 202, await response.text());
  const notice = (await page.textContent('p.banner.queued'))?.trim() ?? '';
  const jobId = /\(job ([^)]+)\)/.exec(notice)?.[1];
  assert.ok(jobId, notice);
  assert.equal(
    notice,
    `Unfiltered capture of run s2 requested from host probe-out (job ${jobId}). It appears in the run's artifacts when the host has cut it.`,
  );
  const job = await queueOf('probe-out').getJob(jobId);
  assert.deepEqual(job?.data, { runId: 's2', unfiltered: true });
  // The page goes on listing captures below the notice.
  assert.ok((await rowsOf(page)).includes('slice:s2'));

  // Refusals are one line on the page, in its status.
  const cookie = await cookieOf(context);
  const post = (body: string) =>
    fetch(`${base}/captures?lang=en`, {
      method: 'POST',
      headers: { cookie, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
  for (const [body, status, line] of [
    ['runId=gone', 404, 'No run with id "gone" (it may have expired).'],
    ['runId=s4', 409, 'Run s4 does not say which host ran it, so no capture can be asked of it.'],
    ['runId=..%2Fx', 400, 'Field "runId" must be a run id (letters, digits, "-", "_" or "."); got "../x".'],
  ] as const) {
    const answer = await post(body);
    assert.equal(answer.status, status, body);
    assert.ok((await answer.text()).replaceAll('&quot;', '"').includes(line), body);
  }
  await context.close();
});

test('a post from another origin is refused (403) and queues nothing, even with the session cookie', async () => {
  const { context, page } = await signedIn(operator.token, '/captures?lang=en');
  const before = await queueOf('probe-1').getJobCounts();
  // A real cross-origin form post in the browser: same site (127.0.0.1), so the cookie goes.
  const [response] = await Promise.all([
    page.waitForResponse((answer) => answer.request().method() === 'POST'),
    page.goto(`http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`),
  ]);
  assert.equal(response.status(), 403);
  assert.ok(
    (await response.request().allHeaders()).cookie?.includes('pathwatch_session'),
    'the cookie went along',
  );
  await page.waitForSelector('p.refused');
  assert.match(
    (await page.textContent('p.refused')) ?? '',
    /Refused: this request came from another site \(http:\/\/127\.0\.0\.1:\d+\)/,
  );
  const forged = await fetch(`${base}/captures`, {
    method: 'POST',
    headers: {
      cookie: await cookieOf(context),
      origin: 'http://evil.example',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'runId=s1',
  });
  assert.equal(forged.status, 403);
  assert.deepEqual(await queueOf('probe-1').getJobCounts(), before);
  await context.close();
});

test('in Japanese, every word of the page is Japanese', async () => {
  const { context, page } = await signedIn(operator.token, '/captures?lang=ja', 'ja-JP');
  assert.equal(await page.textContent('h1'), 'キャプチャ');
  const headers = await page.$$eval('table.captures thead th', (cells) =>
    cells.map((cell) => cell.textContent),
  );
  assert.deepEqual(headers, [
    '時刻（UTC）',
    '種類',
    'チェック',
    '拠点',
    '実行',
    'サイズ',
    'ダウンロード',
    'フィルターなし',
  ]);
  assert.equal(await page.textContent('tr[data-run=s1] td:nth-child(2)'), 'スライス');
  await page.screenshot({ path: join(ARTIFACTS_DIR, 'console-captures-ja.png'), fullPage: true });
  const bad = await page.goto(`${base}/captures?lang=ja&type=pcap`);
  assert.equal(bad?.status(), 400);
  assert.equal(
    (await page.textContent('#filter-problem'))?.trim(),
    '条件「type」はslice または collection である必要があります。入力値:「pcap」',
  );
  await context.close();
});

test('on an open API (no tokens) the page opens, but no unfiltered capture is offered or taken', async () => {
  const page = await openApp.inject({ url: '/captures?lang=en' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /href="\/captures\?lang=en"/);
  assert.match(page.body, /Unfiltered captures are not offered: this API has no tokens \(api\.tokens\)/);
  assert.doesNotMatch(page.body, /form method="post"/);
  const post = await openApp.inject({
    method: 'POST',
    url: '/captures?lang=en',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'runId=s1',
  });
  assert.equal(post.statusCode, 403);
  assert.match(post.body, /Unfiltered captures are not offered: this API has no tokens/);
});
