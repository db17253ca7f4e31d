import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import type { Browser } from 'playwright';
import type { AlertContext } from '../../src/alerts/alert-context.ts';
import type { AlertEvent, AlertEventKind } from '../../src/alerts/alert-event.ts';
import { type AlertMail, renderAlertMail } from '../../src/alerts/alert-message.ts';
import { gatherAlertContext } from '../../src/alerts/gather-alert-context.ts';
import { buildApp } from '../../src/api/build-app.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { type LoadedConfig, parseConfig } from '../../src/config/load-config.ts';
import { JA_ACTIONS } from '../../src/evidence/run-page/messages.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ERROR_CODES } from '../../src/results/error-codes.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { ArtifactRef, RunResult } from '../../src/results/run-result.ts';
import { launchLoopbackChromium } from '../helpers/loopback-browser.ts';
import { mailHeader } from '../helpers/mail-headers.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/test-smtp-server.ts';

/**
 * Issue 14, content: the alert mail as a mail client shows it (Chromium renders the HTML,
 * the picture is kept under test-artifacts/), in English and Japanese, and the evidence
 * behind it gathered from real Redis, a real artifact store and an API whose links open.
 */
const ARTIFACTS_DIR = join(process.cwd(), 'test-artifacts');
const dir = mkdtempSync(join(tmpdir(), 'pw-alert-mail-'));
let browser: Browser;
let smtp: TestSmtpServer;
let screenshotPng: Buffer;
const prefixes: string[] = [];
const AT = Date.UTC(2026, 11, 7, 3, 12, 0);

before(async () => {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  browser = await launchLoopbackChromium();
  // A real failing-step screenshot, as a journey's page.screenshot() stores it.
  const page = await browser.newPage({ viewport: { width: 640, height: 360 } });
  await page.setContent(
    '<body style="margin:0;font-family:sans-serif;background:#fff"><div style="padding:24px"><h1 style="color:#b42318">Payment failed</h1><p>The card service did not answer.</p><button style="font-size:20px">Pay now</button></div></body>',
  );
  screenshotPng = await page.screenshot();
  await page.close();
});

after(async () => {
  await browser?.close();
  await smtp?.close();
  for (const prefix of prefixes) await deleteKeysWithPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

function downEvent(language: 'en' | 'ja', overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    key: `inc-7.down.oncall.email.${language}`,
    kind: 'down',
    list: 'oncall',
    channel: 'email',
    language,
    incidentId: 'inc-7',
    checkId: 'checkout',
    checkName: language === 'ja' ? 'チェックアウト' : 'Checkout',
    itemKind: 'journey',
    locations: ['outside'],
    firstError: 'journey "checkout" step 2 "pay": timeout of 15000 ms exceeded',
    verdict: 'outside-path',
    at: AT,
    start: AT,
    ...overrides,
  };
}

function renderedContext(language: 'en' | 'ja'): AlertContext {
  return {
    verdict: { name: 'outside-path', summary: 'failing only from outside (outside) while inside passes' },
    locations: [
      {
        id: 'inside',
        side: 'inside',
        description: 'Frankfurt data centre, rack 4',
        state: 'UP',
        since: AT - 86_400_000,
        probeHostFault: false,
      },
      {
        id: 'outside',
        side: 'outside',
        description: 'a cloud in Tokyo',
        state: 'DOWN',
        since: AT,
        lastError: 'timeout of 15000 ms exceeded',
        probeHostFault: false,
      },
      { id: 'outside-2', side: 'outside', state: 'NO WORKER', probeHostFault: false },
    ],
    run: {
      runId: 'checkout-outside-1765077120000',
      location: 'outside',
      startedAt: AT - 16_000,
      step: 'pay',
      error: {
        code: 'TIMEOUT',
        class: 'timeout',
        message: 'journey "checkout" step 2 "pay": timeout of 15000 ms exceeded',
      },
      whatToDo: language === 'ja' ? JA_ACTIONS.TIMEOUT : ERROR_CODES.TIMEOUT.action,
    },
    timings: [
      { phase: 'step:open', ms: 412, medianMs: 380 },
      { phase: 'step:pay', ms: 15_002, medianMs: 640 },
      { phase: 'total', ms: 15_600, medianMs: 1100 },
    ],
    screenshot: { filename: 'failure.png', contentType: 'image/png', content: screenshotPng },
    diagnosis: 'SYN to 10.0.0.5:443 sent 3 times, no SYN-ACK: dropped between the outside and us',
    links: {
      runPage: 'http://127.0.0.1:8080/runs/checkout-outside-1765077120000?lang=en&exp=1765163520&sig=x',
      bundle: 'http://127.0.0.1:8080/api/v1/runs/checkout-outside-1765077120000/bundle?exp=1765163520&sig=x',
      expiresAt: AT + 86_400_000,
    },
  };
}

interface MimePart {
  headers: Record<string, string>;
  body: Buffer;
}

function parseHeaders(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** The leaf parts of a raw MIME message, bodies decoded (base64, quoted-printable, 7bit). */
function mimeParts(raw: string): MimePart[] {
  const split = raw.indexOf('\r\n\r\n');
  const headers = parseHeaders(raw.slice(0, split));
  const body = raw.slice(split + 4);
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  if (boundary) {
    return body
      .split(`--${boundary}`)
      .slice(1, -1)
      .flatMap((part) => mimeParts(part.replace(/^\r\n/, '')));
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const content = body.replace(/\r\n$/, '');
  if (encoding === 'base64') return [{ headers, body: Buffer.from(content.replace(/\s+/g, ''), 'base64') }];
  if (encoding === 'quoted-printable') {
    const bytes = content
      .replace(/=\r\n/g, '')
      .split(/(=[0-9A-F]{2})/i)
      .map((piece) =>
        /^=[0-9A-F]{2}$/i.test(piece)
          ? Buffer.from([Number.parseInt(piece.slice(1), 16)])
          : Buffer.from(piece, 'latin1'),
      );
    return [{ headers, body: Buffer.concat(bytes) }];
  }
  return [{ headers, body: Buffer.from(content, 'utf8') }];
}

/**
 * Sends the mail through a real SMTP server as the email channel does (nodemailer, the
 * screenshot an inline attachment by Content-ID) and returns what arrived: its subject, its
 * HTML part decoded, and the HTML as a client shows it, each `cid:` image its attachment.
 */
async function deliver(mail: AlertMail) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: smtp.port,
    secure: false,
    ignoreTLS: true,
  });
  try {
    await transport.sendMail({
      from: 'pathwatch@example.test',
      to: 'oncall@example.test',
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      attachments: mail.attachments.map((attachment) => ({
        ...attachment,
        contentDisposition: 'inline' as const,
      })),
    });
  } finally {
    transport.close();
  }
  const raw = smtp.messages.at(-1)?.data ?? '';
  const parts = mimeParts(raw);
  const partOf = (type: RegExp) => parts.find((part) => type.test(part.headers['content-type'] ?? ''));
  // Mail has CRLF line ends: nodemailer writes the bodies' "\n" as "\r\n".
  const bodyOf = (type: RegExp) => partOf(type)?.body.toString('utf8').replaceAll('\r\n', '\n') ?? '';
  const html = bodyOf(/^text\/html; charset=utf-8/i);
  const text = bodyOf(/^text\/plain; charset=utf-8/i);
  let shown = html;
  for (const part of parts) {
    const cid = /^<(.*)>$/.exec(part.headers['content-id'] ?? '')?.[1];
    const type = (part.headers['content-type'] ?? '').split(';')[0];
    if (cid) shown = shown.replaceAll(`cid:${cid}`, `data:${type};base64,${part.body.toString('base64')}`);
  }
  return { subject: mailHeader(raw, 'Subject'), html, text, shown };
}

/** Opens the mail in Chromium, keeps a full-page picture, and reads back what a reader sees. */
async function openMail(html: string, pictureName: string) {
  const page = await browser.newPage({ viewport: { width: 760, height: 900 } });
  const requests: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  await page.setContent(html, { waitUntil: 'load' });
  const picture = join(ARTIFACTS_DIR, pictureName);
  await page.screenshot({ path: picture, fullPage: true });
  // No named helpers inside: tsx would wrap them in __name(), which the page does not have.
  const seen = await page.evaluate(() => {
    const image = document.querySelector<HTMLImageElement>('[data-pw="screenshot"] img');
    return {
      subject: document.querySelector('[data-pw="subject"]')?.textContent ?? '',
      headline: document.querySelector('[data-pw="headline"]')?.textContent ?? '',
      headings: [...document.querySelectorAll('h2')].map((heading) => heading.textContent ?? ''),
      stateRows: [...document.querySelectorAll('[data-pw="locations"] tbody tr')].map((row) =>
        [...row.querySelectorAll('td')].map((cell) => cell.textContent ?? ''),
      ),
      image: image && {
        complete: image.complete,
        naturalWidth: image.naturalWidth,
        naturalHeight: image.naturalHeight,
        shownHeight: image.getBoundingClientRect().height,
      },
    };
  });
  return { page, seen, requests, picture };
}

test('the English mail rendered by Chromium shows the subject, the state table and the screenshot (test-artifacts/alert-mail-en.png)', async () => {
  const mail = renderAlertMail(downEvent('en'), renderedContext('en'));
  const received = await deliver(mail);
  assert.equal(received.subject, mail.subject, 'the subject arrives as written');
  assert.equal(received.html, mail.html, 'the HTML part arrives as written');
  assert.equal(received.text, mail.text, 'the text part arrives as written');
  const { page, seen, requests } = await openMail(received.shown, 'alert-mail-en.png');
  try {
    assert.equal(seen.subject, mail.subject);
    assert.match(seen.subject, /^\[pathwatch\] DOWN Checkout — outside only \(path\) — step "pay": journey/);
    assert.equal(seen.headline, 'Checkout is DOWN');
    assert.deepEqual(
      seen.stateRows.map((row) => [row[0], row[2]]),
      [
        ['inside — Frankfurt data centre, rack 4', 'UP'],
        ['outside — a cloud in Tokyo', 'DOWN'],
        ['outside-2', 'NO WORKER'],
      ],
    );
    for (const heading of [
      'What failed',
      'Every location',
      'Timings against the usual',
      'Screenshot of the failing step',
      'Packet capture diagnosis',
      'Evidence',
    ]) {
      assert.ok(seen.headings.includes(heading), `heading ${heading} in ${seen.headings.join(' | ')}`);
    }
    assert.ok(seen.image, 'the screenshot is in the page');
    assert.equal(seen.image.complete, true);
    assert.equal(seen.image.naturalWidth, 640, 'the attached screenshot loaded');
    assert.equal(seen.image.naturalHeight, 360);
    assert.ok(seen.image.shownHeight > 100, `shown ${seen.image.shownHeight} px high`);
    // Nothing fetched from anywhere: the image is the attachment, and there is no other resource.
    assert.deepEqual(
      requests.filter((url) => !url.startsWith('data:') && url !== 'about:blank'),
      [],
    );
  } finally {
    await page.close();
  }
});

/** Fonts that draw Japanese (Noto CJK from fonts-noto-cjk, and the other common ones). */
const JAPANESE_FONT =
  /CJK|Noto Sans JP|Source Han|Hiragino|Meiryo|Yu Gothic|IPA|Takao|VL Gothic|Droid Sans Fallback|WenQuanYi/i;

test('the Japanese mail rendered by Chromium shows Japanese headings drawn with a Japanese font (test-artifacts/alert-mail-ja.png)', async () => {
  const mail = renderAlertMail(downEvent('ja'), renderedContext('ja'));
  const received = await deliver(mail);
  assert.equal(received.subject, mail.subject, 'the subject arrives as written');
  assert.equal(received.html, mail.html, 'the HTML part arrives as written');
  assert.equal(received.text, mail.text, 'the text part arrives as written');
  const { page, seen } = await openMail(received.shown, 'alert-mail-ja.png');
  try {
    assert.equal(seen.subject, mail.subject);
    assert.match(seen.subject, /^\[pathwatch\] DOWN チェックアウト — 外部のみ \(経路\) — step "pay"/);
    assert.equal(seen.headline, 'チェックアウト が停止（DOWN）しています');
    for (const heading of [
      '失敗の内容',
      '全ロケーションの状態',
      '所要時間（通常との比較）',
      '失敗したステップのスクリーンショット',
      'パケットキャプチャの診断',
      '証跡',
    ]) {
      assert.ok(seen.headings.includes(heading), `heading ${heading} in ${seen.headings.join(' | ')}`);
    }
    assert.deepEqual(
      seen.stateRows.map((row) => [row[0], row[1], row[2]]),
      [
        ['inside — Frankfurt data centre, rack 4', '内部', 'UP（正常）'],
        ['outside — a cloud in Tokyo', '外部', 'DOWN（停止）'],
        ['outside-2', '外部', 'ワーカーなし'],
      ],
    );
    assert.equal(seen.image?.naturalWidth, 640);

    // The glyphs were drawn, not boxes: the font Chromium used for a Japanese heading is one
    // that has Japanese, and a Japanese character does not look like a character no font has.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument');
    const { nodeId } = await cdp.send('DOM.querySelector', {
      nodeId: root.nodeId,
      selector: '[data-pw="headline"]',
    });
    const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
    assert.ok(
      fonts.some((font) => JAPANESE_FONT.test(font.familyName) && font.glyphCount > 0),
      `a Japanese font drew the headline, used: ${fonts.map((font) => `${font.familyName} (${font.glyphCount})`).join(', ')} — install fonts-noto-cjk`,
    );
    await page.evaluate(() => {
      const probe = document.createElement('div');
      probe.innerHTML =
        '<span id="glyph-ja" style="font-size:40px">停</span> <span id="glyph-none" style="font-size:40px">\u0378</span>';
      document.body.prepend(probe);
    });
    const drawn = await page.locator('#glyph-ja').screenshot();
    const missing = await page.locator('#glyph-none').screenshot();
    assert.notDeepEqual(
      drawn,
      missing,
      '停 is drawn like a character with no glyph (a box): no Japanese font',
    );
  } finally {
    await page.close();
  }
});

/** A PNG that is a real image, a pcap header, a capture analysis: what a failing run leaves behind. */
async function storeEvidence(store: FilesystemArtifactStore, runId: string): Promise<ArtifactRef[]> {
  const put = async (name: string, kind: string, body: Buffer | string, type: string) => {
    const stored = await store.put(`runs/${runId}/${name}`, Buffer.from(body), type);
    return { kind, key: stored.key, bytes: stored.bytes, contentType: type };
  };
  const pcapHeader = Buffer.alloc(24);
  pcapHeader.writeUInt32LE(0xa1b2c3d4, 0);
  pcapHeader.writeUInt16LE(2, 4);
  pcapHeader.writeUInt16LE(4, 6);
  pcapHeader.writeUInt32LE(65_535, 16);
  pcapHeader.writeUInt32LE(1, 20);
  return [
    await put('failure.png', 'screenshot', screenshotPng, 'image/png'),
    await put('trace.zip', 'trace', Buffer.from('PK\u0005\u0006'.padEnd(22, '\u0000')), 'application/zip'),
    await put('capture-1.pcap', 'pcap', pcapHeader, 'application/vnd.tcpdump.pcap'),
    await put(
      'capture-1-analysis.json',
      'analysis',
      JSON.stringify({
        diagnosis: 'SYN sent 3 times to 127.0.0.1:9, no SYN-ACK',
        tcpFlows: [],
        dns: { queries: [] },
      }),
      'application/json',
    ),
  ];
}

function runOf(runId: string, location: string, startedAt: number, fields: Partial<RunResult>): RunResult {
  return {
    runId,
    checkId: 'shop',
    kind: 'http',
    location,
    startedAt,
    finishedAt: startedAt + (fields.phases?.total ?? 40),
    attempt: 1,
    status: 'pass',
    phases: { dns: 1, connect: 10, firstByte: 20, total: 40 },
    peers: [{ ip: '127.0.0.1', port: 9 }],
    ...fields,
  } as RunResult;
}

/** Redis, an artifact store and a listening API with tokens (so only a signed link opens without one). */
async function evidenceStack(label: string, t: { after: (fn: () => Promise<void> | void) => void }) {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  const redis: Redis = createRedisConnection(SHARED_REDIS_URL);
  const store = new FilesystemArtifactStore(join(dir, label, 'artifacts'));
  const linkKey = randomBytes(32);
  const viewer = createApiToken();
  const config = await parseConfig(
    {
      locations: {
        inside: { description: 'Frankfurt data centre, rack 4' },
        outside: { description: 'a cloud in Tokyo', controlCheck: 'outside-probe' },
        'outside-2': {},
      },
      checks: [
        { id: 'shop', name: 'Shop', kind: 'http', http: { url: 'http://127.0.0.1:9/' } },
        { id: 'outside-probe', kind: 'tcp', locations: ['outside'], tcp: { host: '127.0.0.1', port: 9 } },
      ],
      redis: { prefix },
      api: { tokens: [{ name: 'viewer', hash: viewer.hash, role: 'viewer' }] },
      alerting: {
        smtp: { host: '127.0.0.1', port: 2525 },
        from: 'pathwatch@example.test',
        to: ['oncall@example.test'],
        links: { ttl: '2h' },
      },
    },
    join(dir, `${label}.yaml`),
  );
  const recorder = new ResultsRecorder(redis, config);
  const app: FastifyInstance = await buildApp({ config, recorder, artifacts: store, linkKey });
  const publicUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  const stops = [recorder.workers.start('inside'), recorder.workers.start('outside')];
  t.after(async () => {
    for (const stop of stops) await stop();
    await app.close();
    redis.disconnect();
  });
  // The API's public address is known once it listens: the config the alert worker would load has it.
  const withUrl: LoadedConfig = {
    ...config,
    settings: { ...config.settings, api: { ...config.settings.api, publicUrl: `${publicUrl}/` } },
  };
  const record = (run: RunResult, locations = ['inside', 'outside', 'outside-2']) =>
    recorder.recordRun(run, { counted: true, policy: { downAfter: 1, upAfter: 1 }, locations });
  return { config: withUrl, recorder, store, linkKey, publicUrl, record };
}

test('gatherAlertContext reads the state table, verdict, failing run, timings, screenshot, diagnosis and signed links that open', async (t) => {
  const { config, recorder, store, linkKey, publicUrl, record } = await evidenceStack('alert-context', t);
  const now = Date.now();
  // The usual at outside: passing runs over the last day, connect 10/12/14 ms (median 12);
  // one older than a day is far slower and must not count.
  await record(runOf('old', 'outside', now - 25 * 3_600_000, { phases: { connect: 900, total: 990 } }));
  for (const [index, connect] of [10, 12, 14].entries()) {
    await record(
      runOf(`usual-${index}`, 'outside', now - (3 - index) * 3_600_000, {
        phases: { connect, firstByte: 20, total: connect + 30 },
      }),
    );
  }
  await record(runOf('inside-ok', 'inside', now - 60_000, {}));
  const runId = 'shop-outside-failing';
  await record(
    runOf(runId, 'outside', now - 30_000, {
      status: 'fail',
      phases: { connect: 5000, total: 5001 },
      error: {
        class: 'connect_timeout',
        code: 'CONNECT_TIMEOUT',
        message: 'connect to 127.0.0.1:9 timed out after 5000 ms',
        phase: 'connect',
      },
      artifacts: await storeEvidence(store, runId),
    }),
  );
  const event = downEvent('en', {
    checkId: 'shop',
    checkName: 'Shop',
    itemKind: 'http',
    locations: ['outside'],
    at: now - 30_000,
    start: now - 30_000,
  });

  const started = performance.now();
  const context = await gatherAlertContext(event, { recorder, config, artifacts: store, linkKey });
  const took = performance.now() - started;
  t.diagnostic(`gathered in ${took.toFixed(1)} ms`);

  assert.deepEqual(
    context.locations.map(({ id, side, description, state, probeHostFault }) => ({
      id,
      side,
      description,
      state,
      probeHostFault,
    })),
    [
      {
        id: 'inside',
        side: 'inside',
        description: 'Frankfurt data centre, rack 4',
        state: 'UP',
        probeHostFault: false,
      },
      {
        id: 'outside',
        side: 'outside',
        description: 'a cloud in Tokyo',
        state: 'DOWN',
        probeHostFault: false,
      },
      { id: 'outside-2', side: 'outside', description: undefined, state: 'NO WORKER', probeHostFault: false },
    ],
  );
  const outside = context.locations.find((row) => row.id === 'outside');
  assert.equal(outside?.since, now - 30_000);
  assert.equal(outside?.lastError, 'connect to 127.0.0.1:9 timed out after 5000 ms');
  assert.equal(context.verdict?.name, 'outside-path');
  assert.match(context.verdict?.summary ?? '', /only from outside/);
  assert.deepEqual(context.run, {
    runId,
    location: 'outside',
    startedAt: now - 30_000,
    error: {
      code: 'CONNECT_TIMEOUT',
      class: 'connect_timeout',
      message: 'connect to 127.0.0.1:9 timed out after 5000 ms',
    },
    whatToDo: ERROR_CODES.CONNECT_TIMEOUT.action,
  });
  assert.deepEqual(context.timings, [
    { phase: 'connect', ms: 5000, medianMs: 12 },
    { phase: 'total', ms: 5001, medianMs: 42 },
  ]);
  assert.deepEqual(context.screenshot, {
    filename: 'failure.png',
    contentType: 'image/png',
    content: screenshotPng,
  });
  assert.equal(context.diagnosis, 'SYN sent 3 times to 127.0.0.1:9, no SYN-ACK');

  // Links: to what the run has, signed for alerting.links.ttl (2 h), opening without a token.
  const { links } = context;
  assert.ok(
    links.expiresAt && Math.abs(links.expiresAt - (now + 2 * 3_600_000)) < 60_000,
    `expires ${links.expiresAt}`,
  );
  for (const name of ['runPage', 'traceViewer', 'trace', 'capture', 'bundle'] as const) {
    const href = links[name] ?? '';
    assert.ok(href.startsWith(`${publicUrl}/`), `${name}: ${href}`);
    const response = await fetch(href);
    const body = Buffer.from(await response.arrayBuffer());
    assert.equal(
      response.status,
      200,
      `${name} opens: ${href} → ${response.status} ${body.toString('utf8', 0, 200)}`,
    );
    if (name === 'runPage') assert.ok(body.toString('utf8').includes(runId));
    if (name === 'capture') assert.equal(body.readUInt32LE(0), 0xa1b2c3d4);
    if (name === 'bundle') assert.equal(body.toString('latin1', 0, 2), 'PK');
  }
  // The trace viewer loads the trace by the signed link inside its address.
  const inner = new URL(links.traceViewer ?? '').searchParams.get('trace') ?? '';
  assert.equal(inner, links.trace);
  // Signed, not open: without the signature, or with another run's, they are refused.
  const unsigned = new URL(links.runPage ?? '');
  unsigned.searchParams.delete('sig');
  unsigned.searchParams.delete('exp');
  assert.equal((await fetch(unsigned)).status, 401);
  const forged = (links.capture ?? '').replace(runId, 'usual-0');
  assert.equal((await fetch(forged)).status, 403);

  // The mail made from it carries the screenshot inline and the links.
  const mail = renderAlertMail(event, context);
  assert.equal(mail.attachments[0]?.content.equals(screenshotPng), true);
  assert.ok(mail.text.includes(links.bundle ?? 'none'));
  assert.match(mail.text, /^- outside — a cloud in Tokyo \| Side: outside \| State: DOWN/m);

  // In Japanese, what to do comes from the run page's Japanese table.
  const ja = await gatherAlertContext(
    { ...event, language: 'ja' },
    { recorder, config, artifacts: store, linkKey },
  );
  assert.equal(ja.run?.whatToDo, JA_ACTIONS.CONNECT_TIMEOUT);
  assert.match(ja.links.runPage ?? '', /[?&]lang=ja&/);

  // Without the link key, the public address or the artifact store: no links, no screenshot, the rest as before.
  const bare = await gatherAlertContext(event, {
    recorder,
    config: {
      ...config,
      settings: { ...config.settings, api: { ...config.settings.api, publicUrl: undefined } },
    },
  });
  assert.deepEqual(bare.links, {});
  assert.equal(bare.screenshot, undefined);
  assert.equal(bare.run?.runId, runId);
  assert.equal(
    (await gatherAlertContext(event, { recorder, config, artifacts: store })).links.runPage,
    undefined,
  );
});

test('gatherAlertContext for the other kinds: a location alert has its control check table, the rest the minimal context', async (t) => {
  const { config, recorder, store, linkKey, record } = await evidenceStack('alert-context-kinds', t);
  const now = Date.now();
  await record(
    runOf('probe-failed', 'outside', now - 5000, {
      checkId: 'outside-probe',
      kind: 'tcp',
      status: 'fail',
      error: { class: 'refused', code: 'CONNECT_REFUSED', message: 'connect to 127.0.0.1:9 refused' },
    }),
    ['outside'],
  );
  const base = {
    list: 'default',
    channel: 'email' as const,
    language: 'en' as const,
    locations: [],
    at: now,
  };
  const location = await gatherAlertContext(
    { ...base, key: 'outside.location-down.default.email', kind: 'location-down', location: 'outside' },
    { recorder, config, artifacts: store, linkKey },
  );
  assert.deepEqual(
    location.locations.map(({ id, state, lastError }) => ({ id, state, lastError })),
    [{ id: 'outside', state: 'DOWN', lastError: 'connect to 127.0.0.1:9 refused' }],
  );
  assert.equal(location.run?.runId, 'probe-failed');
  assert.equal(location.run?.whatToDo, ERROR_CODES.CONNECT_REFUSED.action);
  const kinds: AlertEventKind[] = ['maintenance-start', 'maintenance-end', 'digest', 'test'];
  for (const kind of kinds) {
    const context = await gatherAlertContext(
      { ...base, key: `x.${kind}.default.email`, kind, checkId: kind === 'test' ? undefined : 'shop' },
      { recorder, config, artifacts: store, linkKey },
    );
    assert.deepEqual(context, { locations: [], timings: [], links: {} }, kind);
  }
});
