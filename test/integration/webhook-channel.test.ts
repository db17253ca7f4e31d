import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AlertContext, EMPTY_ALERT_CONTEXT } from '../../src/alerts/alert-context.ts';
import type { AlertEvent } from '../../src/alerts/alert-event.ts';
import { enqueueAlert, openAlertQueue } from '../../src/alerts/alert-queue.ts';
import { AlertStatusStore } from '../../src/alerts/alert-status-store.ts';
import { WebhookChannel } from '../../src/alerts/webhook-channel.ts';
import { verifyWebhook } from '../../src/alerts/webhook-signature.ts';
import { type LoadedConfig, parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { createLogger } from '../../src/util/logger.ts';
import { PATHWATCH_VERSION } from '../../src/version.ts';
import { startAlertWorker } from '../../workers/alert-worker.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { findLeaks } from '../helpers/secret-encodings.ts';
import { closedPort, startHttpServer, type TestServer } from '../helpers/test-servers.ts';

/** Issue 14, webhook channel: a signed JSON POST per alert, retried like mail, against a real receiver. */
const SECRET = 'whsec-Pathwatch-Test-Key-7f3a9c';
const QUERY_TOKEN = 'querytoken-5b1e77';
const SCREENSHOT = Buffer.from('PNG-SCREENSHOT-BYTES-do-not-send-0123456789', 'utf8');
const RETRYABLE = [408, 425, 429, 500, 502, 503];
const PERMANENT = [400, 401, 403, 404, 410, 422];
const dir = mkdtempSync(join(tmpdir(), 'pw-webhook-'));

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What the receiver got, in order. */
const received: Received[] = [];
/** Requests held open (the hanging and slow paths), ended at cleanup. */
const held: ServerResponse[] = [];
const hangArrived: Array<(request: IncomingMessage) => void> = [];
let flakyCalls = 0;
let workerCalls = 0;
const prefixes: string[] = [];
let receiver: TestServer;
let config: LoadedConfig;
let channel: WebhookChannel;

function answer(response: ServerResponse, status: number, text = '', headers: Record<string, string> = {}) {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  response.end(text);
}

/** A receiver like a chat tool's: what it answers depends on the path. */
async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const url = new URL(request.url ?? '/', 'http://receiver');
  received.push({ path: url.pathname, headers: request.headers, body: Buffer.concat(chunks) });
  const status = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (url.pathname === '/hook') return answer(response, 202, 'queued: ok\nthank you');
  if (url.pathname === '/echo') return answer(response, 200, `got it, your key is ${SECRET}`);
  if (url.pathname === '/flaky') {
    flakyCalls += 1;
    return flakyCalls === 1 ? answer(response, 503, 'try later') : answer(response, 200, '');
  }
  if (url.pathname === '/worker') {
    workerCalls += 1;
    return workerCalls <= 2 ? answer(response, 503, 'overloaded') : answer(response, 200, 'accepted');
  }
  if (url.pathname === '/moved')
    return answer(response, 302, '', { location: `/final?token=${QUERY_TOKEN}` });
  if (status) return answer(response, Number(status[1]), `refused with ${status[1]}\nsecond line`);
  if (url.pathname === '/slow' || url.pathname === '/hang') {
    held.push(response);
    if (url.pathname === '/hang') for (const arrived of hangArrived.splice(0)) arrived(request);
    return;
  }
  answer(response, 404, 'no such hook');
}

before(async () => {
  receiver = await startHttpServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  const refused = await closedPort();
  const hook = (path: string, timeout = '2s') => ({
    webhook: { url: `${receiver.url}${path}`, secret: '${env:HOOK_SECRET}', timeout },
  });
  config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: [{ id: 'shop', name: 'Shop 支払い', kind: 'http', http: { url: 'http://127.0.0.1:1/' } }],
      alerting: {
        routes: [{ notify: ['ops'] }],
        lists: {
          ops: hook(`/hook?token=${QUERY_TOKEN}`),
          echo: hook('/echo'),
          flaky: hook('/flaky'),
          worker: hook('/worker'),
          moved: hook(`/moved?token=${QUERY_TOKEN}`),
          slow: hook('/slow', '300ms'),
          hang: hook('/hang', '30s'),
          nowhere: { webhook: { url: `http://127.0.0.1:${refused}/hook`, secret: '${env:HOOK_SECRET}' } },
          ...Object.fromEntries(
            [...RETRYABLE, ...PERMANENT].map((code) => [`status${code}`, hook(`/status/${code}`)]),
          ),
        },
      },
    },
    join(dir, 'webhook.yaml'),
    { HOOK_SECRET: SECRET },
  );
  channel = new WebhookChannel({ alerting: config.settings.alerting!, secrets: config.secrets });
});

after(async () => {
  await channel.close();
  for (const response of held) response.destroy();
  await receiver.close();
  for (const prefix of prefixes) await deleteKeysWithPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

function downEvent(list: string, overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    key: `inc-shop-1.down.${list}.webhook`,
    kind: 'down',
    list,
    channel: 'webhook',
    language: 'en',
    subjectTemplate: '[pw] {{state}} {{check}} — {{verdict}} — step "{{step}}": {{error}}',
    incidentId: 'inc-shop-1',
    checkId: 'shop',
    checkName: 'Shop 支払い',
    itemKind: 'http',
    tags: ['shop'],
    locations: ['outside'],
    firstError: 'timeout after 15 s',
    verdict: 'partial',
    at: Date.UTC(2026, 11, 7, 17, 0, 0),
    start: Date.UTC(2026, 11, 7, 17, 0, 0),
    ...overrides,
  };
}

const context: AlertContext = {
  verdict: { name: 'outside-path', summary: 'fails only from outside: the path in is broken' },
  locations: [
    { id: 'inside', side: 'inside', state: 'UP', since: Date.UTC(2026, 11, 7, 9), probeHostFault: false },
    {
      id: 'outside',
      side: 'outside',
      state: 'DOWN',
      since: Date.UTC(2026, 11, 7, 17),
      lastError: 'timeout after 15 s',
      probeHostFault: false,
    },
  ],
  run: {
    runId: 'run-42',
    location: 'outside',
    startedAt: Date.UTC(2026, 11, 7, 16, 59, 45),
    step: 'pay',
    error: { code: 'TIMEOUT', class: 'timeout', message: 'timeout after 15 s' },
  },
  timings: [{ phase: 'total', ms: 15_000, medianMs: 240 }],
  screenshot: { filename: 'pay.png', contentType: 'image/png', content: SCREENSHOT },
  // A secret that slipped into evidence text must still not leave in the body.
  diagnosis: `SYN retransmitted 5 times, no SYN-ACK (login ${SECRET})`,
  links: { runPage: 'http://127.0.0.1:4600/runs/run-42?sig=abc', expiresAt: Date.UTC(2026, 11, 8, 17) },
};

/** Sends and returns the error it threw (it must throw). */
async function sendFails(event: AlertEvent, on = channel): Promise<Error & { permanent?: boolean }> {
  try {
    await on.send(event, context);
  } catch (error) {
    return error as Error & { permanent?: boolean };
  }
  assert.fail(`sending to list ${event.list} was expected to fail`);
}

function assertNoSecret(text: string, where: string) {
  assert.deepEqual(findLeaks(text, where, { hookSecret: SECRET, queryToken: QUERY_TOKEN }), [], where);
}

test('a down alert arrives as signed JSON with its headers, the summary and evidence, no screenshot bytes, no secret', async () => {
  const before = received.length;
  const sentAt = Math.floor(Date.now() / 1000);
  const receipt = await channel.send(downEvent('ops'), context);
  assert.deepEqual(receipt, { accepted: true, response: 'HTTP 202 queued: ok thank you' });
  const requests = received.slice(before);
  assert.equal(requests.length, 1);
  const [{ path, headers, body }] = requests;
  assert.equal(path, '/hook');
  assert.equal(headers['content-type'], 'application/json');
  assert.equal(headers['user-agent'], `pathwatch/${PATHWATCH_VERSION}`);
  assert.equal(headers['x-pathwatch-event'], 'down');
  assert.equal(headers['x-pathwatch-delivery'], 'inc-shop-1.down.ops.webhook');
  const timestamp = Number(headers['x-pathwatch-timestamp']);
  assert.ok(Math.abs(timestamp - sentAt) <= 2, `timestamp ${timestamp} is now (${sentAt})`);
  // Computed here as a receiver in another language would, apart from pathwatch's helper.
  const mac = createHmac('sha256', SECRET)
    .update(`${headers['x-pathwatch-timestamp']}.`)
    .update(body)
    .digest('hex');
  assert.equal(headers['x-pathwatch-signature'], `sha256=${mac}`);
  const signed = {
    signature: headers['x-pathwatch-signature'] as string,
    timestamp: headers['x-pathwatch-timestamp'] as string,
    body,
  };
  assert.deepEqual(verifyWebhook({ ...signed, secret: SECRET }), { ok: true });
  assert.equal(verifyWebhook({ ...signed, secret: 'whsec-some-other-key' }).ok, false);

  const payload = JSON.parse(body.toString('utf8'));
  assert.equal(payload.version, 1);
  assert.equal(payload.key, 'inc-shop-1.down.ops.webhook');
  assert.equal(payload.kind, 'down');
  assert.equal(
    payload.summary,
    '[pw] DOWN Shop 支払い — outside only (path) — step "pay": timeout after 15 s',
  );
  assert.deepEqual(payload.check, { id: 'shop', name: 'Shop 支払い', kind: 'http' });
  assert.equal(payload.incidentId, 'inc-shop-1');
  assert.deepEqual(payload.verdict, context.verdict);
  assert.deepEqual(
    payload.locations.map((row: { id: string; state: string; since: string }) => [
      row.id,
      row.state,
      row.since,
    ]),
    [
      ['inside', 'UP', '2026-12-07T09:00:00.000Z'],
      ['outside', 'DOWN', '2026-12-07T17:00:00.000Z'],
    ],
  );
  assert.equal(payload.firstError, 'timeout after 15 s');
  assert.equal(payload.run.runId, 'run-42');
  assert.equal(payload.run.step, 'pay');
  assert.deepEqual(payload.run.error, context.run?.error);
  assert.deepEqual(payload.timings, context.timings);
  assert.equal(payload.links.runPage, context.links.runPage);
  assert.equal(payload.links.expiresAt, '2026-12-08T17:00:00.000Z');
  assert.equal(payload.at, '2026-12-07T17:00:00.000Z');
  assert.equal(payload.start, '2026-12-07T17:00:00.000Z');
  assert.equal(payload.screenshot, true);
  assert.match(payload.diagnosis, /^SYN retransmitted 5 times, no SYN-ACK \(login \*\*\*\)$/);
  // Absent facts are left out, not sent as null.
  for (const absent of ['downForMs', 'reminder', 'maintenance', 'digest', 'location']) {
    assert.equal(absent in payload, false, absent);
  }
  const raw = body.toString('utf8');
  assertNoSecret(raw, 'webhook body');
  assertNoSecret(JSON.stringify(headers), 'webhook headers');
  assert.deepEqual(findLeaks(body, 'webhook body', { screenshot: SCREENSHOT.toString('utf8') }), []);
});

test('what a receiver answers is kept masked: an echoed secret does not reach the status', async () => {
  const receipt = await channel.send(downEvent('echo'), context);
  assert.equal(receipt.accepted, true);
  assert.equal(receipt.response, 'HTTP 200 got it, your key is ***');
});

test('503 then 200: the first send throws a retryable one-line error, the retry is accepted with the same delivery key', async () => {
  const before = received.length;
  const error = await sendFails(downEvent('flaky'));
  assert.equal(error.permanent, false);
  assert.equal(error.message, `webhook of list "flaky" at ${receiver.url}/… answered HTTP 503 try later`);
  const receipt = await channel.send(downEvent('flaky'), context);
  assert.deepEqual(receipt, { accepted: true, response: 'HTTP 200 OK' });
  const deliveries = received.slice(before).map((request) => request.headers['x-pathwatch-delivery']);
  assert.deepEqual(deliveries, ['inc-shop-1.down.flaky.webhook', 'inc-shop-1.down.flaky.webhook']);
});

test('408, 425, 429 and 5xx are retried; other 4xx fail at once; each message is one line naming list and URL', async () => {
  for (const code of [...RETRYABLE, ...PERMANENT]) {
    const error = await sendFails(downEvent(`status${code}`));
    assert.equal(error.permanent, !RETRYABLE.includes(code), `HTTP ${code}`);
    assert.equal(
      error.message,
      `webhook of list "status${code}" at ${receiver.url}/… answered HTTP ${code} refused with ${code} second line`,
    );
  }
});

test('a redirect is not followed and fails at once; neither message shows the query token', async () => {
  const before = received.length;
  const error = await sendFails(downEvent('moved'));
  assert.equal(error.permanent, true);
  assert.equal(
    error.message,
    `webhook of list "moved" at ${receiver.url}/… answered HTTP 302 (to ${receiver.url}/…): redirects are not followed: set the final URL`,
  );
  assertNoSecret(error.message, 'redirect error');
  assert.deepEqual(
    received.slice(before).map((request) => request.path),
    ['/moved'],
  );
});

test('a receiver that does not answer in time: a retryable timeout error, within the timeout', async () => {
  const started = Date.now();
  const error = await sendFails(downEvent('slow'));
  const took = Date.now() - started;
  assert.equal(error.permanent, false);
  assert.equal(error.message, `webhook of list "slow" at ${receiver.url}/…: no answer within 300 ms`);
  assert.ok(took >= 290 && took < 1500, `gave up after ${took} ms (timeout 300 ms)`);
});

test('an unreachable receiver is retried; a list without a webhook fails at once, naming the list', async () => {
  const refused = await sendFails(downEvent('nowhere'));
  assert.equal(refused.permanent, false);
  assert.match(
    refused.message,
    /^webhook of list "nowhere" at http:\/\/127\.0\.0\.1:\d+\/… unreachable: connection refused$/,
  );
  const none = await sendFails(downEvent('pagers'));
  assert.equal(none.permanent, true);
  assert.match(none.message, /list "pagers"/);
  assert.match(none.message, /no webhook/);
});

test('close() aborts a request in flight (retryable: the alert waits for the next start) and refuses later sends', async () => {
  const closing = new WebhookChannel({ alerting: config.settings.alerting!, secrets: config.secrets });
  const arrived = new Promise<IncomingMessage>((resolve) => hangArrived.push(resolve));
  const sending = sendFails(downEvent('hang'), closing);
  const request = await arrived;
  const disconnected = new Promise<void>((resolve) => request.socket.once('close', () => resolve()));
  const started = Date.now();
  await closing.close();
  const error = await sending;
  assert.ok(Date.now() - started < 1000, 'close() did not wait for the 30 s timeout');
  assert.equal(error.permanent, false);
  assert.equal(
    error.message,
    `webhook of list "hang" at ${receiver.url}/…: aborted, the webhook channel closed`,
  );
  await disconnected;
  const before = received.length;
  const later = await sendFails(downEvent('ops'), closing);
  assert.equal(later.permanent, false);
  assert.match(later.message, /channel is closed/);
  assert.equal(received.length, before, 'nothing was sent after close()');
});

test('no error message of any case carries the secret', async () => {
  const messages: string[] = [];
  for (const list of ['flaky', 'status404', 'moved', 'slow', 'nowhere', 'pagers']) {
    flakyCalls = 0;
    messages.push((await sendFails(downEvent(list))).message);
  }
  for (const message of messages) {
    assert.doesNotMatch(message, /\n/);
    assertNoSecret(message, message);
  }
});

test('through the alert worker: a webhook answering 503 twice, then 200, gets the alert accepted exactly once', async (t) => {
  const prefix = uniquePrefix('webhook-worker');
  prefixes.push(prefix);
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const workerConnection = createRedisConnection(SHARED_REDIS_URL);
  const statuses = new AlertStatusStore(redis, prefix);
  const queue = openAlertQueue(redis, prefix);
  const webhook = new WebhookChannel({ alerting: config.settings.alerting!, secrets: config.secrets });
  const worker = startAlertWorker({
    connection: workerConnection,
    prefix,
    channels: [webhook],
    statuses,
    logger: createLogger('webhook-test', 'silent'),
    retry: { firstDelayMs: 50, maxDelayMs: 100 },
    gather: async () => context,
  });
  t.after(async () => {
    await worker.close();
    await webhook.close();
    await queue.close();
    redis.disconnect();
    workerConnection.disconnect();
  });
  const event = downEvent('worker');
  await statuses.queued(event);
  await enqueueAlert(queue, event, 5);
  // The same alert queued again (a redone run) adds nothing.
  await enqueueAlert(queue, event, 5);
  // Until the job is done with: after that no attempt can follow, so the count below is final.
  const job = await queue.getJob(event.key);
  const deadline = Date.now() + 15_000;
  let state = await job?.getState();
  while (state !== 'completed' && state !== 'failed') {
    assert.ok(Date.now() < deadline, `alert job still ${state} after 15 s`);
    await sleep(50);
    state = await job?.getState();
  }
  const status = await statuses.get(event.key);
  assert.equal(state, 'completed', `the alert job ended ${state}: ${status?.lastError}`);
  assert.equal(status?.state, 'sent');
  assert.equal(status?.attempts, 3);
  assert.equal(status?.response, 'HTTP 200 accepted');
  const bodies = received.filter((request) => request.path === '/worker');
  assert.deepEqual(
    bodies.map((request) => request.headers['x-pathwatch-delivery']),
    [event.key, event.key, event.key],
  );
  // Every attempt is the same alert, signed anew; only the third was answered 2xx.
  for (const request of bodies) {
    const { ok } = verifyWebhook({
      signature: request.headers['x-pathwatch-signature'] as string,
      timestamp: request.headers['x-pathwatch-timestamp'] as string,
      body: request.body,
      secret: SECRET,
    });
    assert.equal(ok, true);
    assert.equal(JSON.parse(request.body.toString('utf8')).key, event.key);
  }
  assert.equal(workerCalls, 3, 'one accepted delivery, after two 503s, and none after it');
  assertNoSecret(JSON.stringify(status), 'alert status');
});

test('a webhook URL may hold its token by reference: the request goes to the resolved path, messages show only the origin', async () => {
  const token = 'T0KEN-in-the-path-42';
  const seen: string[] = [];
  const tokenReceiver = await startHttpServer((request, response) => {
    seen.push(request.url ?? '');
    response.statusCode = 404;
    response.end('gone');
  });
  try {
    const tokenConfig = await parseConfig(
      {
        locations: { inside: {} },
        checks: [{ id: 'shop', kind: 'http', http: { url: 'http://127.0.0.1:1/' } }],
        alerting: {
          routes: [{ notify: ['chat'] }],
          lists: {
            chat: {
              webhook: { url: `${tokenReceiver.url}/hooks/\${env:HOOK_TOKEN}`, secret: '${env:HOOK_SECRET}' },
            },
          },
        },
      },
      join(dir, 'token-url.yaml'),
      { HOOK_TOKEN: token, HOOK_SECRET: SECRET },
    );
    const tokenChannel = new WebhookChannel({
      alerting: tokenConfig.settings.alerting!,
      secrets: tokenConfig.secrets,
    });
    const error = await tokenChannel
      .send({ ...downEvent('chat'), key: 'inc.down.chat.webhook' }, EMPTY_ALERT_CONTEXT)
      .then(
        () => undefined,
        (caught: Error) => caught,
      );
    await tokenChannel.close();
    assert.deepEqual(seen, [`/hooks/${token}`]);
    assert.ok(error instanceof Error);
    assert.equal(error.message, `webhook of list "chat" at ${tokenReceiver.url}/… answered HTTP 404 gone`);
    assert.deepEqual(findLeaks(error.message, 'error', { token }), []);
  } finally {
    await tokenReceiver.close();
  }
});
