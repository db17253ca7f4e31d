import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { type ParsedMail, simpleParser } from 'mailparser';
import { alertChannelsOf } from '../../src/alerts/alert-channels-of.ts';
import { alertItems } from '../../src/alerts/alert-items.ts';
import { MaintenanceCalendar } from '../../src/alerts/maintenance-calendar.ts';
import { buildApp } from '../../src/api/build-app.ts';
import { alertsListSchema } from '../../src/api/routes/alerts-routes.ts';
import { type LoadedConfig, parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import {
  monthAt,
  monthWindow,
  reportMonthsAround,
  sendMomentOf,
  shiftMonth,
} from '../../src/reports/monthly-report-calendar.ts';
import type { ReportWebhookPayload } from '../../src/reports/monthly-report-sender.ts';
import { REPORT_QUEUE_NAME } from '../../src/reports/monthly-report-service.ts';
import { startMonthlyReportsOf } from '../../src/reports/monthly-report-start.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startStack } from '../../workers/start-stack.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { runCli } from '../helpers/run-cli.ts';
import { startHttpServer, type TestServer } from '../helpers/test-servers.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/test-smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/**
 * Issue 15, the monthly report mailed to a list through the alert channel: real Redis,
 * real BullMQ, a real SMTP server and a real webhook receiver on loopback. The clock is
 * moved to the report's moment (`clock`), not waited for.
 *
 * The month is the calendar month (UTC) before today. Its last two days have runs of
 * `shop` (passing, one failure outside) and `api` (six failures at one location): api is
 * the worst and goes first. `ops` is an English mail list; `jp` a Japanese mail list that
 * also has a webhook.
 */
const prefix = uniquePrefix('report-mail');
const dir = mkdtempSync(join(tmpdir(), 'pw-report-mail-'));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HOOK_SECRET = 'report-hook-secret-0123456789';
const month = shiftMonth(monthAt(Date.now(), 'UTC'), -1);
const window = monthWindow(month, 'UTC');
const MAIL = { day: 1, at: '08:00', timezone: 'UTC' };
const moment = sendMomentOf(month, MAIL);
const [year, monthIndex] = month.split('-').map(Number);
const logger = createLogger('report-mail-test', 'silent');

let redis: Redis;
let config: LoadedConfig;
let recorder: ResultsRecorder;
let app: FastifyInstance;
let smtp: TestSmtpServer;
let hook: TestServer;
let queue: Queue;
const hookBodies: ReportWebhookPayload[] = [];
/** How many next webhook requests answer 503 (a retry is owed). */
let hookFailures = 0;

function configInput(smtpPort: number, hookUrl: string) {
  return {
    locations: { inside: {}, outside: {} },
    checks: [
      { id: 'shop', name: 'Shop, front page', kind: 'http', http: { url: 'http://127.0.0.1:4601/' } },
      { id: 'api', kind: 'http', http: { url: 'http://127.0.0.1:4601/api' } },
    ],
    alerting: {
      smtp: { host: '127.0.0.1', port: smtpPort },
      from: 'pathwatch@example.test',
      to: ['oncall@example.test'],
      lists: {
        ops: { to: ['ops@example.test'] },
        jp: {
          to: ['jp@example.test'],
          language: 'ja',
          webhook: { url: hookUrl, secret: '${env:PW_REPORT_HOOK}' },
        },
      },
    },
    reports: { target: 99.9, mail: { lists: ['ops', 'jp'] } },
    // A month's first hours are a month and more old when its report goes out.
    rollupDays: 62,
    redis: { prefix },
  };
}

let queueConnection: Redis | undefined;
before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  hook = await startHttpServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (hookFailures > 0) {
        hookFailures--;
        response.writeHead(503).end('busy');
        return;
      }
      hookBodies.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      response.writeHead(202).end('taken');
    });
  });
  config = await parseConfig(configInput(smtp.port, `${hook.url}/hook`), join(dir, 'pathwatch.yaml'), {
    ...process.env,
    PW_REPORT_HOOK: HOOK_SECRET,
  });
  recorder = new ResultsRecorder(redis, config);
  const options = { counted: true, policy: { downAfter: 1, upAfter: 1 }, locations: ['inside', 'outside'] };
  const first = window.to - 2 * DAY;
  for (const checkId of ['shop', 'api'])
    for (const location of ['inside', 'outside'])
      for (let hour = 0; hour < 48; hour += 6)
        for (let index = 0; index < 6; index++) {
          const startedAt = first + hour * HOUR + index * 10 * 60_000;
          const fails =
            (checkId === 'api' && location === 'inside' && hour === 0) ||
            (checkId === 'shop' && location === 'outside' && hour === 6 && index === 0);
          await recorder.recordRun(
            {
              runId: `${checkId}-${location}-${hour}-${index}`,
              checkId,
              kind: 'http',
              location,
              startedAt,
              finishedAt: startedAt + 1,
              attempt: 1,
              status: fails ? 'fail' : 'pass',
              phases: { total: [3, 8, 20, 40, 90, 200][index] },
              peers: [],
            } as unknown as RunResult,
            options,
          );
        }
  app = await buildApp({ config, recorder, redis });
  queueConnection = createRedisConnection(SHARED_REDIS_URL);
  queue = new Queue(REPORT_QUEUE_NAME, { connection: queueConnection, prefix });
});

after(async () => {
  await app?.close();
  await queue?.close();
  // BullMQ leaves a connection it was given open: it would keep the test process alive.
  queueConnection?.disconnect();
  await smtp?.close();
  await hook?.close();
  await deleteKeysWithPrefix(prefix);
  redis?.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

/** Each test starts with no report queued, sent or remembered, and nothing received. */
beforeEach(async () => {
  for (const part of ['report-sent', 'reports', 'alert', 'alert-sent'])
    await deleteKeysWithPrefix(`${prefix}:${part}`);
  await redis.del(`${prefix}:report-since`, `${prefix}:alerts`);
  smtp.messages.length = 0;
  hookBodies.length = 0;
  hookFailures = 0;
});

/** A scheduler start whose clock reads `at`; returns its stopper. */
async function startAt(at: number): Promise<() => Promise<void>> {
  const offset = at - Date.now();
  const connection = createRedisConnection(SHARED_REDIS_URL);
  const workerConnection = createRedisConnection(SHARED_REDIS_URL);
  const channels = alertChannelsOf(config.settings.alerting!, config.secrets);
  const reports = await startMonthlyReportsOf({
    config,
    alerting: config.settings.alerting!,
    channels,
    routing: { allItems: alertItems(config) },
    recorder,
    redis: connection,
    workerConnection,
    prefix,
    maintenance: new MaintenanceCalendar(connection, prefix, config.settings.maintenance),
    logger,
    clock: () => Date.now() + offset,
    retry: { firstDelayMs: 200, maxDelayMs: 400 },
  });
  assert.ok(reports, 'reports.mail is set: the monthly report starts');
  return async () => {
    await reports.stop();
    await Promise.all(channels.map((channel) => channel.close()));
    connection.disconnect();
    workerConnection.disconnect();
  };
}

const apiReport = async (format: 'json' | 'csv') => {
  const response = await app.inject({
    url: `/api/v1/reports?period=month&end=${new Date(window.to).toISOString()}&format=${format}`,
  });
  assert.equal(response.statusCode, 200, response.body);
  return response;
};

const mailTo = async (address: string): Promise<ParsedMail> => {
  const raw = smtp.messages.filter((message) => message.to.includes(address));
  assert.equal(raw.length, 1, `one mail to ${address}`);
  return simpleParser(raw[0].data);
};

test('at its moment the month’s report goes once to each list and channel, equal to the API’s', async () => {
  const stop = await startAt(moment - 1500);
  try {
    // Before the moment: queued, delayed, nothing sent.
    assert.ok(
      await (await queue.getJob(`report.${month}.ops.email`))?.isDelayed(),
      'delayed until its moment',
    );
    assert.equal(smtp.messages.length, 0);
    await waitFor(
      'two report mails and a webhook',
      () => smtp.messages.length === 2 && hookBodies.length === 1,
    );
  } finally {
    await stop();
  }
  const json = (await apiReport('json')).json();
  const csv = (await apiReport('csv')).body;

  // The webhook carries the report: the same computation, the same numbers as the API.
  const [payload] = hookBodies;
  assert.equal(payload.key, `report.${month}.jp.webhook`);
  assert.equal(payload.month, month);
  assert.deepEqual(payload.report.checks, json.checks);
  assert.equal(payload.report.target, json.target);
  assert.equal(payload.report.to, json.to);
  assert.equal(payload.report.from, window.from, 'the calendar month, from its first midnight');
  if (window.to - window.from === 30 * DAY) assert.deepEqual(payload.report, json);

  // English mail: summary worst first, the CSV attached with the API's rows.
  const ops = await mailTo('ops@example.test');
  const monthName = new Date(Date.UTC(year, monthIndex - 1, 1)).toLocaleString('en-US', {
    month: 'long',
    timeZone: 'UTC',
  });
  assert.equal(ops.subject, `[pathwatch] Monthly report ${monthName} ${year}: 2 of 2 below target (99.9%)`);
  const apiTotal = json.checks.find((check: { id: string }) => check.id === 'api').total;
  const shopTotal = json.checks.find((check: { id: string }) => check.id === 'shop').total;
  const text = ops.text ?? '';
  assert.ok(text.includes('Error budget left'), text);
  assert.ok(text.indexOf('api') < text.indexOf('Shop, front page'), 'the worst (api) first');
  assert.ok(text.includes(`${apiTotal.availability}%`), 'api’s availability as the API says it');
  assert.ok(text.includes(`${shopTotal.errorBudget.leftPercent}%`), 'shop’s budget left as the API says it');
  assert.ok(text.includes(`${apiTotal.p95} ms`));
  assert.match(String(ops.html), /<table/);
  assert.equal(ops.attachments.length, 1);
  assert.equal(ops.attachments[0].filename, `pathwatch-report-${month}.csv`);
  assert.equal(
    ops.attachments[0].content.toString('utf8'),
    csv,
    'the attached CSV is the API’s, row for row',
  );

  // Japanese mail for the ja list.
  const jp = await mailTo('jp@example.test');
  assert.equal(
    jp.subject,
    `[pathwatch] 月次レポート ${year}年${monthIndex}月: 2 件中 2 件が目標未達 (99.9%)`,
  );
  assert.ok((jp.text ?? '').includes('エラーバジェット残'), jp.text);
  assert.ok(String(jp.html).includes('可用性レポート'));
  assert.equal(jp.attachments[0].content.toString('utf8'), csv);

  // Delivered as alerts are: sent statuses, and the next month queued for its moment.
  for (const key of [`report.${month}.ops.email`, `report.${month}.jp.email`, `report.${month}.jp.webhook`]) {
    const status = await recorder.alerts.get(key);
    assert.equal(status?.state, 'sent', key);
    assert.equal(status?.kind, 'report');
  }
  assert.ok(await (await queue.getJob(`report.${shiftMonth(month, 1)}.ops.email`))?.isDelayed());
  // GET /api/v1/alerts lists them as its documented schema says (it knew only down/up/test).
  const listed = (await app.inject({ url: '/api/v1/alerts' })).json();
  const checked = alertsListSchema.safeParse(listed);
  assert.ok(checked.success, JSON.stringify(checked.error?.issues[0]));
  assert.ok(listed.alerts.some((alert: { key: string }) => alert.key === `report.${month}.jp.webhook`));

  // A second scheduler start after the moment sends nothing again.
  const again = await startAt(moment + 60_000);
  await sleep(2000);
  await again();
  assert.equal(smtp.messages.length, 2, 'no second mail');
  assert.equal(hookBodies.length, 1, 'no second webhook');
});

test('a moment missed while the stack was down is caught up once, retrying a failed webhook', async () => {
  // Up an hour before the moment (queued, delayed), then down until two days after it.
  const before = await startAt(moment - HOUR);
  await before();
  assert.equal(smtp.messages.length, 0);
  hookFailures = 1;
  const late = await startAt(moment + 2 * DAY);
  try {
    await waitFor('the missed report', () => smtp.messages.length === 2 && hookBodies.length === 1);
  } finally {
    await late();
  }
  const webhook = await recorder.alerts.get(`report.${month}.jp.webhook`);
  assert.equal(webhook?.state, 'sent');
  assert.equal(webhook?.attempts, 2, 'the 503 was retried');
  const third = await startAt(moment + 3 * DAY);
  await sleep(2000);
  await third();
  assert.equal(smtp.messages.length, 2, 'caught up once');
  assert.equal(hookBodies.length, 1);
});

test('a first start after a moment does not send that month’s report out of the blue', async () => {
  const stop = await startAt(moment + DAY);
  await sleep(1500);
  await stop();
  assert.equal(smtp.messages.length, 0);
  assert.equal(await queue.getJob(`report.${month}.ops.email`), undefined);
  assert.ok(await (await queue.getJob(`report.${shiftMonth(month, 1)}.ops.email`))?.isDelayed());
});

test('the schedule: the previous month is due on the day and time in the zone', () => {
  const tokyo = { day: 3, at: '09:30', timezone: 'Asia/Tokyo' };
  // 2026-12-03 09:30 in Tokyo is 00:30 UTC.
  assert.equal(new Date(sendMomentOf('2026-11', tokyo)).toISOString(), '2026-12-03T00:30:00.000Z');
  assert.deepEqual(reportMonthsAround(Date.parse('2026-12-03T00:29:59Z'), tokyo), {
    due: '2026-10',
    next: '2026-11',
  });
  assert.deepEqual(reportMonthsAround(Date.parse('2026-12-03T00:30:00Z'), tokyo), {
    due: '2026-11',
    next: '2026-12',
  });
  // A Tokyo month starts at 15:00 UTC the day before.
  assert.deepEqual(monthWindow('2027-01', 'Asia/Tokyo'), {
    period: 'month',
    from: Date.parse('2026-12-31T15:00:00Z'),
    to: Date.parse('2027-01-31T15:00:00Z'),
  });
  // Berlin's October has 31 days and a DST change: 745 hours.
  const october = monthWindow('2026-10', 'Europe/Berlin');
  assert.equal((october.to - october.from) / HOUR, 745);
});

test('bad report mail settings: every problem at once, each naming its path and what was expected', async () => {
  const input = configInput(2525, 'http://127.0.0.1:9/hook');
  const bad = {
    ...input,
    reports: { mail: { lists: ['opz', 'jp'], day: 31, at: '8am', timezone: 'Asia/Tokio' } },
  };
  await assert.rejects(
    parseConfig(bad, join(dir, 'bad.yaml'), { PW_REPORT_HOOK: HOOK_SECRET }),
    (error: Error) => {
      const lines = error.message.split('\n').map((line) => line.trim());
      for (const expected of [
        'reports.mail.lists[0]: no recipient list "opz" (lists: default, ops, jp), did you mean "ops"?',
        'reports.mail.day: expected a day of the month from 1 to 28 (every month has it), got 31',
        'reports.mail.at: expected a time of day "HH:MM" (00:00 to 23:59), got "8am"',
      ])
        assert.ok(lines.includes(expected), `${expected}\nin:\n${error.message}`);
      assert.ok(
        lines.some(
          (line) =>
            line.startsWith('reports.mail.timezone: expected an IANA time zone') &&
            line.endsWith('did you mean "Asia/Tokyo"?'),
        ),
        error.message,
      );
      return true;
    },
  );
  const { alerting: _none, ...withoutAlerting } = input;
  await assert.rejects(
    parseConfig({ ...withoutAlerting, reports: { mail: { lists: ['ops'] } } }, join(dir, 'bad.yaml'), {}),
    /reports\.mail\.lists\[0\]: no recipient list "ops": there is no alerting block; add alerting\.lists\.ops/,
  );
  await assert.rejects(
    parseConfig({ ...input, reports: { mail: { lists: [] } } }, join(dir, 'bad.yaml'), {
      PW_REPORT_HOOK: HOOK_SECRET,
    }),
    /reports\.mail\.lists: must name at least one recipient list, got \[\]/,
  );
  await assert.rejects(
    parseConfig({ ...input, reports: { mail: { lists: ['ops'], dya: 2 } } }, join(dir, 'bad.yaml'), {
      PW_REPORT_HOOK: HOOK_SECRET,
    }),
    /reports\.mail\.dya: unknown key "dya"/,
  );
  // Rollups kept fewer days than a month's report reaches back: its first days would be missing.
  await assert.rejects(
    parseConfig(
      { ...input, rollupDays: 30, reports: { mail: { lists: ['ops'], day: 3 } } },
      join(dir, 'bad.yaml'),
      {
        PW_REPORT_HOOK: HOOK_SECRET,
      },
    ),
    /rollupDays: is 30, but reports\.mail sends each month's report on day 3, when the month's first hours are up to 34 days old: set rollupDays to at least 34/,
  );
});

test('pathwatch report send: sends one month now; a bad month or list is one line and exit 2', async () => {
  const file = join(dir, 'pathwatch.yaml');
  writeFileSync(file, JSON.stringify(configInput(smtp.port, `${hook.url}/hook`)));
  const env = {
    ...process.env,
    PATHWATCH_LOG_LEVEL: 'silent',
    REDIS_URL: SHARED_REDIS_URL,
    PW_REPORT_HOOK: HOOK_SECRET,
  };
  const badMonth = await runCli(['report', 'send', '--config', file, '--month', '2026-13', '--list', 'ops'], {
    env,
  });
  assert.equal(badMonth.code, 2);
  assert.equal(
    badMonth.stderr.trim(),
    'pathwatch report send: --month: expected a month "YYYY-MM" such as "2026-11", got "2026-13"',
  );
  const badList = await runCli(['report', 'send', '--config', file, '--month', month, '--list', 'opz'], {
    env,
  });
  assert.equal(badList.code, 2);
  assert.equal(
    badList.stderr.trim(),
    'pathwatch report send: --list: no recipient list "opz" (lists: default, ops, jp)',
  );
  assert.equal(smtp.messages.length, 0);

  const sent = await runCli(['report', 'send', '--config', file, '--month', month, '--list', 'ops'], { env });
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(
    sent.stdout.trim(),
    new RegExp(`^sent the ${month} report to list "ops" by email; the server answered: 250 Ok`),
  );
  const ops = await mailTo('ops@example.test');
  assert.equal(ops.attachments[0].content.toString('utf8'), (await apiReport('csv')).body);
});

test('the stack’s scheduler starts the monthly report beside the alert worker', async () => {
  const stack = await startStack({
    config,
    logger,
    roles: { api: false, scheduler: true, workerLocations: [] },
    redisUrl: SHARED_REDIS_URL,
  });
  try {
    // Its first start: the report due before it is not sent; the next one waits for its moment.
    const { next } = reportMonthsAround(Date.now(), MAIL);
    await waitFor('the next report queued', async () =>
      Boolean(await (await queue.getJob(`report.${next}.jp.webhook`))?.isDelayed()),
    );
    assert.equal(smtp.messages.length, 0);
  } finally {
    await stack.stop();
  }
});
