import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AlertEvent } from '../../src/alerts/alert-event.ts';
import { alertItems } from '../../src/alerts/alert-items.ts';
import { AlertOutbox } from '../../src/alerts/alert-outbox.ts';
import { enqueueAlert, openAlertQueue } from '../../src/alerts/alert-queue.ts';
import type { AlertStatus } from '../../src/alerts/alert-status-store.ts';
import { EmailChannel } from '../../src/alerts/email-channel.ts';
import { buildApp } from '../../src/api/build-app.ts';
import { type LoadedConfig, loadConfig, parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startAlertWorker } from '../../workers/alert-worker.ts';
import { startStack } from '../../workers/start-stack.ts';
import { routingOf } from '../helpers/alert-routing-of.ts';
import { mailHeader } from '../helpers/mail-headers.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { findLeaks } from '../helpers/secret-encodings.ts';
import { closedPort, startHttpServer } from '../helpers/test-servers.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/test-smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Issue 14, delivery: DOWN and UP mails, each exactly once, through an SMTP outage. */
const prefixes: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'pw-alerts-'));
let redis: Redis;
const logger = createLogger('alerts-test', 'silent');

before(() => {
  redis = createRedisConnection(SHARED_REDIS_URL);
});

after(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

function failedRun(checkId: string, runId: string, at: number): RunResult {
  return {
    runId,
    checkId,
    kind: 'http',
    location: 'inside',
    startedAt: at,
    finishedAt: at + 5,
    attempt: 1,
    status: 'fail',
    phases: { total: 5 },
    peers: [],
    error: {
      class: 'refused',
      code: 'CONNECT_REFUSED',
      message: `connect to 127.0.0.1:1 refused (${checkId})`,
    },
  } as RunResult;
}

test('a check goes DOWN at two locations, then UP: one down mail and one up mail, subjects templated', async (t) => {
  const prefix = uniquePrefix('alerts-stack');
  prefixes.push(prefix);
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  let failing = false;
  const target = await startHttpServer((_request, response) => {
    response.statusCode = failing ? 500 : 200;
    response.end(failing ? 'broken' : 'ok');
  });
  t.after(() => target.close());
  const configFile = join(dir, 'stack.yaml');
  writeFileSync(
    configFile,
    [
      'locations: { inside: {}, outside: {} }',
      'defaults: { interval: 1s, timeout: 800ms, retries: 0 }',
      'checks:',
      `  - { id: shop, name: Shop health, kind: http, http: { url: "${target.url}/health" } }`,
      `redis: { prefix: ${prefix} }`,
      'alerting:',
      `  smtp: { host: 127.0.0.1, port: ${smtp.port} }`,
      '  from: pathwatch@example.test',
      '  to: [oncall@example.test]',
      '  subject: "[pw] {{check}} is {{state}} at {{location}}"',
      '',
    ].join('\n'),
  );
  const config = await loadConfig(configFile);
  const stack = await startStack({
    config,
    logger,
    roles: { api: true, scheduler: true, workerLocations: ['inside', 'outside'] },
    redisUrl: SHARED_REDIS_URL,
    apiPort: 0,
  });
  t.after(() => stack.stop());
  const recorder = new ResultsRecorder(redis, config);
  const bothAre = async (state: string) =>
    (await recorder.states.get('shop', 'inside')).state === state &&
    (await recorder.states.get('shop', 'outside')).state === state;
  await waitFor('both locations UP', () => bothAre('UP'));
  failing = true;
  await waitFor('the down mail', () => smtp.messages.length >= 1);
  await waitFor('both locations DOWN', () => bothAre('DOWN'));
  failing = false;
  await waitFor('the up mail', () => smtp.messages.length >= 2);
  // A run or two more at each location: any extra mail would arrive by now.
  await sleep(2500);
  const subjects = smtp.messages.map((message) => mailHeader(message.data, 'Subject'));
  // A down mail, an up mail, and between them a follow-up only if the verdict changed (the
  // second location failing a slot later turns "outside only" into "service").
  assert.ok(
    smtp.messages.length >= 2 && smtp.messages.length <= 3,
    `two or three mails, got: ${subjects.join(' | ')}`,
  );
  assert.match(
    subjects[0] ?? '',
    /^\[pw\] Shop health is DOWN at (inside|outside|inside, outside|outside, inside)$/,
  );
  assert.match(subjects.at(-1) ?? '', /^\[pw\] Shop health is UP at (inside, outside|outside, inside)$/);
  for (const middle of subjects.slice(1, -1)) assert.match(middle ?? '', /is DOWN \(verdict changed\) at/);
  assert.deepEqual(smtp.messages[0].to, ['oncall@example.test']);
  assert.match(smtp.messages.at(-1)!.data, /Down for/);
  assert.match(smtp.messages[0].data, /Content-Type: text\/html; charset=utf-8/i);

  const incident = (await recorder.incidents.list('shop'))[0];
  const listed = await fetch(`${stack.apiUrl}/api/v1/alerts`).then((response) => response.json());
  const sent = listed.alerts.filter((alert: { state: string }) => alert.state === 'sent');
  assert.equal(sent.length, smtp.messages.length, 'one sent status per mail');
  assert.deepEqual(
    [sent[0].key, sent.at(-1).key],
    [`${incident.id}.up.default.email`, `${incident.id}.down.default.email`],
  );
  assert.match(sent[0].response, /^250 Ok: queued as TEST\d$/);
});

test('the mail server is down while three incidents alert: after it is back each arrives exactly once, across a worker restart', async (t) => {
  const prefix = uniquePrefix('alerts-outage');
  prefixes.push(prefix);
  const port = await closedPort();
  const config: LoadedConfig = await parseConfig(
    {
      locations: { inside: {} },
      checks: ['a', 'b', 'c'].map((id) => ({
        id: `shop-${id}`,
        name: `Caisse ${id} — paiement 支払い`,
        kind: 'http',
        http: { url: 'http://127.0.0.1:1/' },
        ...(id === 'c' ? { alertSubject: 'Own subject: {{checkId}} {{state}}' } : {}),
      })),
      redis: { prefix },
      alerting: {
        smtp: { host: '127.0.0.1', port },
        from: 'pathwatch@example.test',
        to: ['oncall@example.test'],
      },
    },
    join(dir, 'outage.yaml'),
  );
  const alerting = config.settings.alerting!;
  const recorder = new ResultsRecorder(redis, config);
  const items = alertItems(config);
  const queueConnection = createRedisConnection(SHARED_REDIS_URL);
  const queue: Queue<AlertEvent> = openAlertQueue(queueConnection, prefix);
  const outbox = new AlertOutbox(queue, recorder.alerts, routingOf(config));
  const app = await buildApp({ config, recorder });
  const channel = new EmailChannel({ alerting, secrets: config.secrets });
  const workers: Worker[] = [];
  const connections: Redis[] = [queueConnection];
  let smtp: TestSmtpServer | undefined;
  t.after(async () => {
    for (const worker of workers) await worker.close();
    await channel.close();
    await queue.close();
    await app.close();
    await smtp?.close();
    for (const connection of connections) connection.disconnect();
  });
  const startWorker = () => {
    const connection = createRedisConnection(SHARED_REDIS_URL);
    connections.push(connection);
    const worker = startAlertWorker({
      connection,
      prefix,
      channels: [channel],
      statuses: recorder.alerts,
      logger,
      retry: { firstDelayMs: 200, maxDelayMs: 800 },
    });
    workers.push(worker);
    return worker;
  };
  const statesOf = async () => {
    const response = await app.inject({ url: '/api/v1/alerts' });
    assert.equal(response.statusCode, 200);
    return (response.json().alerts as AlertStatus[]).sort((x, y) => x.key.localeCompare(y.key));
  };

  // Three checks go DOWN while no worker runs: their alerts wait, queued.
  const keys: string[] = [];
  const now = Date.now();
  for (const [index, item] of items.entries()) {
    const run = failedRun(item.id, `${prefix}-run-${index}`, now + index);
    const recorded = await recorder.recordRun(run, {
      counted: true,
      policy: { downAfter: 1, upAfter: 1 },
      locations: ['inside'],
    });
    assert.equal(recorded.incident?.kind, 'opened');
    const [event] = await outbox.enqueue(recorded);
    keys.push(event.key);
    // A redone job, or a second worker, queues the same event again: nothing more is added.
    await outbox.enqueue(recorded);
  }
  assert.equal(await queue.count(), 3, 'one job per incident, whatever the enqueues');
  assert.deepEqual(
    (await statesOf()).map((alert) => alert.state),
    ['queued', 'queued', 'queued'],
  );

  // The server is down: every attempt fails, each alert shows it is being retried.
  const first = startWorker();
  await waitFor('three alerts retrying twice', async () => {
    const states = await statesOf();
    return states.every((alert) => alert.state === 'retrying' && alert.attempts >= 2);
  });
  assert.match(
    (await statesOf())[0].lastError ?? '',
    /mail server 127\.0\.0\.1:\d+ unreachable: connection refused/,
  );

  // The alert worker restarts in the middle of the outage.
  await first.close();
  startWorker();
  await sleep(500);

  smtp = await startSmtpServer({ port, closeTimeoutMs: 200 });
  await waitFor('three mails', () => (smtp?.messages.length ?? 0) >= 3);
  await waitFor('three alerts sent', async () => (await statesOf()).every((alert) => alert.state === 'sent'));

  // A job for an alert already sent (its job gone, queued again) sends nothing: the sent mark stops it.
  const done = (await queue.getJob(keys[0]))!;
  assert.equal(done.returnvalue?.alreadySent, false);
  await queue.remove(keys[0]);
  await enqueueAlert(queue, done.data);
  await waitFor(
    'the redone job finished',
    async () => (await queue.getJob(keys[0]))?.returnvalue?.alreadySent === true,
  );
  await sleep(1000);

  const messages = smtp.messages;
  assert.equal(messages.length, 3, 'each alert exactly once');
  const alertKeys = messages.map((message) => mailHeader(message.data, 'X-Pathwatch-Alert')).sort();
  assert.deepEqual(alertKeys, [...keys].sort());
  const messageIds = new Set(messages.map((message) => mailHeader(message.data, 'Message-ID')));
  assert.equal(messageIds.size, 3);
  const subjects = messages.map((message) => mailHeader(message.data, 'Subject')).sort();
  assert.deepEqual(subjects, [
    'Own subject: shop-c DOWN',
    '[pathwatch] DOWN Caisse a — paiement 支払い: connect to 127.0.0.1:1 refused (shop-a)',
    '[pathwatch] DOWN Caisse b — paiement 支払い: connect to 127.0.0.1:1 refused (shop-b)',
  ]);
  const statuses = await statesOf();
  for (const status of statuses) assert.match(status.response ?? '', /^250 Ok: queued as TEST\d$/);
});

test('the whole stack: three checks go DOWN while the mail server is down, pathwatch restarts in the middle, the server comes back: three mails, each once', async (t) => {
  const prefix = uniquePrefix('alerts-stack-outage');
  prefixes.push(prefix);
  const port = await closedPort();
  const configFile = join(dir, 'stack-outage.yaml');
  writeFileSync(
    configFile,
    [
      'locations: { inside: {} }',
      'defaults: { interval: 1s, timeout: 500ms, retries: 0, downAfter: 1 }',
      'checks:',
      ...['a', 'b', 'c'].map((id) => `  - { id: till-${id}, kind: tcp, tcp: { host: 127.0.0.1, port: 1 } }`),
      `redis: { prefix: ${prefix} }`,
      `dataDir: ${join(dir, 'stack-outage-data')}`,
      'alerting:',
      `  smtp: { host: 127.0.0.1, port: ${port} }`,
      '  from: pathwatch@example.test',
      '  to: [oncall@example.test]',
      '',
    ].join('\n'),
  );
  const config = await loadConfig(configFile);
  const start = () =>
    startStack({
      config,
      logger,
      roles: { api: false, scheduler: true, workerLocations: ['inside'] },
      redisUrl: SHARED_REDIS_URL,
    });
  const recorder = new ResultsRecorder(redis, config);
  const statuses = async () => (await recorder.alerts.list(100)).filter((status) => status.kind === 'down');
  let stack = await start();
  t.after(() => stack.stop());
  // Each down alert has been tried against the closed port and waits for its retry.
  await waitFor('three failed attempts', async () => {
    const downs = await statuses();
    return downs.length === 3 && downs.every((status) => status.state === 'retrying');
  });
  await stack.stop();
  stack = await start();
  const smtp = await startSmtpServer({ port, closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  // The first retry is due 15 s after the first attempt.
  await waitFor('three mails', () => smtp.messages.length >= 3, 40_000);
  await sleep(2000);
  assert.equal(smtp.messages.length, 3, 'each alert exactly once');
  const checks = smtp.messages.map(
    (message) => /till-[abc]/.exec(mailHeader(message.data, 'Subject') ?? '')?.[0],
  );
  assert.deepEqual(checks.sort(), ['till-a', 'till-b', 'till-c']);
  for (const status of await statuses()) assert.equal(status.state, 'sent', status.key);
});

test('an incident whose alert was never queued (its worker died in between) is found and alerted once by the sweep', async (t) => {
  const prefix = uniquePrefix('alerts-sweep');
  prefixes.push(prefix);
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  const config: LoadedConfig = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'till', name: 'Till', kind: 'http', http: { url: 'http://127.0.0.1:1/' } }],
      redis: { prefix },
      alerting: {
        smtp: { host: '127.0.0.1', port: smtp.port },
        from: 'pathwatch@example.test',
        to: ['oncall@example.test'],
      },
    },
    join(dir, 'sweep.yaml'),
  );
  const recorder = new ResultsRecorder(redis, config);
  const queueConnection = createRedisConnection(SHARED_REDIS_URL);
  const workerConnection = createRedisConnection(SHARED_REDIS_URL);
  const queue: Queue<AlertEvent> = openAlertQueue(queueConnection, prefix);
  const channel = new EmailChannel({ alerting: config.settings.alerting!, secrets: config.secrets });
  const worker = startAlertWorker({
    connection: workerConnection,
    prefix,
    channels: [channel],
    statuses: recorder.alerts,
    logger,
  });
  t.after(async () => {
    await worker.close();
    await channel.close();
    await queue.close();
    queueConnection.disconnect();
    workerConnection.disconnect();
    await smtp.close();
  });
  // The run is stored and the incident opened, but no outbox queued its alert: what a worker
  // that died right after the write leaves behind.
  const recorded = await recorder.recordRun(failedRun('till', `${prefix}-run`, Date.now()), {
    counted: true,
    policy: { downAfter: 1, upAfter: 1 },
    locations: ['inside'],
  });
  assert.equal(recorded.incident?.kind, 'opened');
  const outbox = new AlertOutbox(queue, recorder.alerts, routingOf(config), logger);
  const swept = await outbox.reconcile(recorder.incidents);
  assert.deepEqual(
    swept.map((event) => event.key),
    [`${recorded.incident!.incident.id}.down.default.email`],
  );
  await waitFor('the down mail', () => smtp.messages.length === 1);
  // Found once: the next sweeps see its status and queue nothing.
  assert.deepEqual(await outbox.reconcile(recorder.incidents), []);
  await sleep(300);
  assert.equal(smtp.messages.length, 1, 'exactly one mail');
  assert.match(mailHeader(smtp.messages[0].data, 'subject') ?? '', /Till/);
});

test('what a mail server answered is kept masked: a refusal echoing the SMTP password shows no trace of it in the alert status', async (t) => {
  const prefix = uniquePrefix('alerts-masked');
  prefixes.push(prefix);
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'till', kind: 'http', http: { url: 'http://127.0.0.1:1/' } }],
      redis: { prefix },
      alerting: {
        smtp: { host: '127.0.0.1', port: 25, user: 'pw', password: '${env:SMTP_PASSWORD}' },
        from: 'pathwatch@example.test',
        to: ['oncall@example.test'],
      },
    },
    join(dir, 'masked.yaml'),
    { SMTP_PASSWORD: 'Mail-Secret/4711+x' },
  );
  const password = 'Mail-Secret/4711+x';
  // Resolved as the mail channel resolves it: from then on the process masks it.
  const channel = new EmailChannel({
    alerting: config.settings.alerting!,
    secrets: config.secrets,
  });
  t.after(() => channel.close());
  const recorder = new ResultsRecorder(redis, config);
  const event: AlertEvent = {
    key: 'incident1.down.default.email',
    kind: 'down',
    list: 'default',
    channel: 'email',
    language: 'en',
    incidentId: 'incident1',
    checkId: 'till',
    checkName: 'till',
    itemKind: 'http',
    locations: ['inside'],
    at: Date.now(),
    start: Date.now(),
  };
  const echoed = `535 bad password ${password} (${Buffer.from(password).toString('base64')})`;
  await recorder.alerts.attemptFailed(event, echoed, 1, { at: Date.now() + 1000 });
  await recorder.alerts.sent(
    event,
    { accepted: true, response: `250 ok ${password}`, messageId: '<m@x>' },
    2,
  );
  const stored = JSON.stringify(await recorder.alerts.get(event.key));
  assert.deepEqual(findLeaks(stored, 'alert status', { password }), []);
  assert.match(stored, /535 bad password \*\*\*/);
});
