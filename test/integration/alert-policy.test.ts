import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startMaintenanceAnnouncer } from '../../src/alerts/maintenance-announcer.ts';
import { buildApp } from '../../src/api/build-app.ts';
import { type LoadedConfig, parseConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/util/logger.ts';
import { parseMails, runOf, startAlertPipeline } from '../helpers/alert-pipeline.ts';
import { deleteKeysWithPrefix, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { closedPort } from '../helpers/test-servers.ts';
import { startSmtpServer } from '../helpers/test-smtp-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** Issue 14, policy: reminders, escalation, recovery, maintenance, storms, probe-host faults. */
const prefixes: string[] = [];
const dir = mkdtempSync(join(tmpdir(), 'pw-alert-policy-'));
const logger = createLogger('alert-policy-test', 'silent');

after(async () => {
  for (const prefix of prefixes) await deleteKeysWithPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

/** A 2×2 red PNG: what a failing step's screenshot is, in small. */
const SCREENSHOT = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAwMDAwMAAAA0OAQEAQ2XcAAAAAElFTkSuQmCC',
  'base64',
);

async function configWith(name: string, settings: Record<string, unknown>): Promise<LoadedConfig> {
  const prefix = uniquePrefix(`alert-policy-${name}`);
  prefixes.push(prefix);
  return parseConfig({ redis: { prefix }, dataDir: join(dir, name), ...settings }, join(dir, `${name}.yaml`));
}

test('down, two reminders, an escalation to a Japanese list, then recovery: each mail once, subjects templated, the screenshot inline and signed links that open', async (t) => {
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  const apiPort = await closedPort();
  const config = await configWith('reminders', {
    locations: { inside: {} },
    checks: [
      { id: 'pay', name: 'Checkout', kind: 'http', tags: ['payments'], http: { url: 'http://127.0.0.1:1/' } },
    ],
    api: { port: apiPort, publicUrl: `http://127.0.0.1:${apiPort}` },
    alerting: {
      smtp: { host: '127.0.0.1', port: smtp.port },
      from: 'pathwatch@example.test',
      to: ['oncall@example.test'],
      lists: { managers: { to: ['boss@example.test'], language: 'ja' } },
      subject: '[pw] {{state}} {{check}}{{#error}}: {{error}}{{/error}} ({{code}})',
      reminders: { every: '1500ms', max: 2 },
      escalation: { after: '2s', notify: ['managers'] },
      // Reminders count toward a storm (twenty folded downs must not come back as twenty
      // reminders); at 1.5 s apart they would fold this test's up.
      storm: { threshold: 10 },
    },
  });
  const linkKey = Buffer.alloc(32, 7);
  const pipeline = startAlertPipeline(config, logger, { linkKey });
  t.after(() => pipeline.stop());
  const app = await buildApp({ config, recorder: pipeline.recorder, linkKey, artifacts: pipeline.artifacts });
  await app.listen({ host: '127.0.0.1', port: apiPort });
  t.after(() => app.close());
  const stopBeat = pipeline.recorder.workers.start('inside');
  t.after(stopBeat);

  const failing = runOf('pay', 'inside', 'fail', Date.now(), {
    artifacts: [{ kind: 'screenshot', key: '', contentType: 'image/png' }],
  });
  const screenshotKey = `runs/${failing.runId}/failure.png`;
  failing.artifacts = [
    { kind: 'screenshot', key: screenshotKey, contentType: 'image/png', bytes: SCREENSHOT.length },
  ];
  await pipeline.artifacts.put(screenshotKey, SCREENSHOT, 'image/png');
  const queued = await pipeline.record(failing, ['inside']);
  assert.deepEqual(
    queued.map((event) => `${event.kind}@${event.list}`),
    ['down@default'],
  );
  pipeline.startWorker();

  await waitFor('down, two reminders and the escalation', () => smtp.messages.length >= 4, 15_000);
  await pipeline.record(runOf('pay', 'inside', 'pass'), ['inside']);
  await waitFor('the up mails', () => smtp.messages.length >= 6, 15_000);
  await sleep(1500); // a third reminder, or a second of anything, would be here by now
  const mails = await parseMails(smtp.messages);
  const seen = mails.map((mail) => `${mail.rcpt.join(',')}: ${mail.subject}`);
  assert.equal(mails.length, 6, seen.join('\n'));
  const toOncall = mails
    .filter((mail) => mail.rcpt.includes('oncall@example.test'))
    .map((mail) => mail.subject);
  const toBoss = mails.filter((mail) => mail.rcpt.includes('boss@example.test')).map((mail) => mail.subject);
  assert.deepEqual(toOncall, [
    '[pw] DOWN Checkout: connect to 127.0.0.1:1 refused (CONNECT_REFUSED)',
    '[pw] STILL DOWN Checkout: connect to 127.0.0.1:1 refused (CONNECT_REFUSED)',
    '[pw] STILL DOWN Checkout: connect to 127.0.0.1:1 refused (CONNECT_REFUSED)',
    '[pw] UP Checkout ()',
  ]);
  assert.equal(toBoss.length, 2, seen.join('\n'));
  assert.match(toBoss[0] ?? '', /^\[pw\] ESCALATED Checkout/);
  assert.match(toBoss[1] ?? '', /^\[pw\] UP Checkout/);

  // The down mail: the screenshot inline, referenced from the HTML by its Content-ID.
  const down = mails[0];
  const image = down.attachments.find((attachment) => attachment.contentType === 'image/png');
  assert.ok(image, 'the screenshot is attached');
  assert.deepEqual(image.content, SCREENSHOT);
  assert.ok(image.cid && String(down.html).includes(`cid:${image.cid}`), 'the HTML shows it inline');
  // Its signed links open without a token.
  const links = [...new Set(String(down.text).match(/http:\/\/127\.0\.0\.1:\d+\/[^\s)>\]]+/g) ?? [])];
  const runPage = links.find((link) => link.includes(`/runs/${failing.runId}`));
  assert.ok(runPage, `a link to the run page among ${links.join(' ')}`);
  for (const link of links) {
    const response = await fetch(link);
    assert.ok([200, 206].includes(response.status), `${link} opens: ${response.status}`);
    await response.arrayBuffer();
  }
  // The escalation reached the Japanese list in Japanese.
  assert.match(
    String(mails.find((mail) => mail.rcpt.includes('boss@example.test'))?.text),
    /[\u3040-\u30ff\u4e00-\u9faf]/,
  );
  const statuses = await pipeline.statuses();
  assert.deepEqual([...statuses.values()].map((status) => status.state).sort(), [
    'sent',
    'sent',
    'sent',
    'sent',
    'sent',
    'sent',
  ]);
});

test('a flapping check inside a maintenance window sends nothing; the window is announced when it starts and when it ends', async (t) => {
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  const start = Date.now() + 1200;
  const end = start + 2500;
  const config = await configWith('maintenance', {
    locations: { inside: {} },
    checks: [
      { id: 'flappy', name: 'Flappy', kind: 'http', http: { url: 'http://127.0.0.1:1/' } },
      { id: 'other', name: 'Other', kind: 'http', http: { url: 'http://127.0.0.1:1/' } },
    ],
    maintenance: [
      {
        name: 'db-upgrade',
        reason: 'database upgrade',
        checks: ['flappy'],
        start: new Date(start).toISOString(),
        end: new Date(end).toISOString(),
      },
    ],
    alerting: {
      smtp: { host: '127.0.0.1', port: smtp.port },
      from: 'pathwatch@example.test',
      to: ['oncall@example.test'],
    },
  });
  const pipeline = startAlertPipeline(config, logger);
  t.after(() => pipeline.stop());
  pipeline.startWorker();
  const announcer = startMaintenanceAnnouncer({
    statuses: pipeline.recorder.alerts,
    calendar: pipeline.calendar,
    outbox: pipeline.outbox,
    incidents: pipeline.recorder.incidents,
    logger,
    everyMs: 100,
  });
  t.after(() => announcer.stop());

  await waitFor('the start announcement', () => smtp.messages.length >= 1);
  // Flapping inside the window: four incidents open and close; it ends DOWN.
  for (let flap = 0; flap < 4; flap++) {
    await pipeline.record(runOf('flappy', 'inside', 'fail'), ['inside']);
    await sleep(50);
    await pipeline.record(runOf('flappy', 'inside', 'pass'), ['inside']);
    await sleep(50);
  }
  await pipeline.record(runOf('flappy', 'inside', 'fail'), ['inside']);
  assert.ok(Date.now() < end, 'the flapping happened inside the window');
  await waitFor('the end announcement', () => smtp.messages.length >= 2, 10_000);
  await sleep(800);
  const mails = await parseMails(smtp.messages);
  assert.deepEqual(
    mails.map((mail) => mail.subject),
    ['[pathwatch] MAINTENANCE STARTED: db-upgrade', '[pathwatch] MAINTENANCE ENDED: db-upgrade'],
  );
  assert.match(String(mails[0].text), /database upgrade/);
  // The end names what is still DOWN: its alerts were held, its trouble is not over.
  assert.match(String(mails[1].text), /Flappy/);
  // Its downs and ups (a held down's reminders wait for their time, held again while it lasts).
  const held = [...(await pipeline.statuses()).values()].filter(
    (status) => status.checkId === 'flappy' && (status.kind === 'down' || status.kind === 'up'),
  );
  assert.ok(held.length >= 9, `every down and up of the flapping was held: ${held.length}`);
  for (const status of held) {
    assert.ok(
      status.state === 'held' || status.state === 'skipped',
      `${status.key}: ${status.state} ${status.reason ?? ''}`,
    );
  }
  assert.ok(held.some((status) => status.reason === 'maintenance db-upgrade'));
  // A check outside the window is not held.
  await pipeline.record(runOf('other', 'inside', 'fail'), ['inside']);
  await waitFor('the other check alerts', () => smtp.messages.length >= 3);
  assert.match((await parseMails(smtp.messages.slice(2)))[0].subject ?? '', /DOWN Other/);
  // The history shows the window beside each incident it covered, and beside no other.
  const app = await buildApp({ config, recorder: pipeline.recorder, maintenance: pipeline.calendar });
  t.after(() => app.close());
  const flappy = (await app.inject({ url: '/api/v1/checks/flappy/incidents' })).json();
  assert.equal(flappy.incidents.length, 5);
  for (const incident of flappy.incidents) assert.deepEqual(incident.maintenance, ['db-upgrade']);
  const other = (await app.inject({ url: '/api/v1/checks/other/incidents' })).json();
  assert.equal(other.incidents.length, 1);
  assert.equal(other.incidents[0].maintenance, undefined);
});

test('twenty checks failing within the storm window: the first mail at once, the rest in one digest listing them', async (t) => {
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  const ids = Array.from({ length: 20 }, (_, index) => `svc-${String(index + 1).padStart(2, '0')}`);
  const config = await configWith('storm', {
    locations: { inside: {} },
    checks: ids.map((id) => ({ id, kind: 'http', http: { url: 'http://127.0.0.1:1/' } })),
    alerting: {
      smtp: { host: '127.0.0.1', port: smtp.port },
      from: 'pathwatch@example.test',
      to: ['oncall@example.test'],
      storm: { window: '3s', threshold: 1 },
      reminders: { max: 0 },
    },
  });
  const pipeline = startAlertPipeline(config, logger);
  t.after(() => pipeline.stop());
  pipeline.startWorker();
  const first = Date.now();
  for (const id of ids) await pipeline.record(runOf(id, 'inside', 'fail'), ['inside']);
  await waitFor('the first mail and the digest', () => smtp.messages.length >= 2, 15_000);
  await sleep(1000);
  const mails = await parseMails(smtp.messages);
  assert.equal(mails.length, 2, mails.map((mail) => mail.subject).join('\n'));
  assert.match(mails[0].subject ?? '', /^\[pathwatch\] DOWN svc-\d\d/);
  assert.equal(mails[1].subject, '[pathwatch] DIGEST: 19 alerts in a storm');
  const firstId = /svc-\d\d/.exec(mails[0].subject ?? '')?.[0];
  for (const id of ids.filter((id) => id !== firstId)) assert.match(String(mails[1].text), new RegExp(id));
  assert.ok(mails[1].date && mails[1].date.getTime() >= first, 'sent once the window closed');
  const folded = [...(await pipeline.statuses()).values()].filter((status) => status.state === 'folded');
  assert.equal(folded.length, 19);
});

test('a probe host that loses its network: one mail about the location, none about the checks failing there', async (t) => {
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  const config = await configWith('probe-host', {
    locations: { inside: {}, outside: { controlCheck: 'outside-gw', description: 'cloud probe' } },
    checks: [
      { id: 'outside-gw', kind: 'tcp', locations: ['outside'], tcp: { host: '127.0.0.1', port: 1 } },
      ...['shop', 'api', 'login'].map((id) => ({ id, kind: 'http', http: { url: 'http://127.0.0.1:1/' } })),
    ],
    alerting: {
      smtp: { host: '127.0.0.1', port: smtp.port },
      from: 'pathwatch@example.test',
      to: ['oncall@example.test'],
      reminders: { max: 0 },
    },
  });
  const pipeline = startAlertPipeline(config, logger);
  t.after(() => pipeline.stop());
  const beats = [pipeline.recorder.workers.start('inside'), pipeline.recorder.workers.start('outside')];
  t.after(() => Promise.all(beats.map((stop) => stop())));
  const both = ['inside', 'outside'];
  for (const id of ['shop', 'api', 'login']) {
    for (const location of both) await pipeline.record(runOf(id, location, 'pass'), both);
  }
  // The control check's last pass and the checks' first failures carry the same millisecond
  // (it happens on a fast host): a control run at that instant says nothing of after it.
  const instant = Date.now();
  await pipeline.record(runOf('outside-gw', 'outside', 'pass', instant), ['outside']);
  pipeline.startWorker();
  // The host loses its network: its checks fail there first, its control check a moment later.
  for (const id of ['shop', 'api', 'login'])
    await pipeline.record(runOf(id, 'outside', 'fail', instant), both);
  await sleep(100);
  await pipeline.record(runOf('outside-gw', 'outside', 'fail'), ['outside']);
  await waitFor('the location mail', () => smtp.messages.length >= 1);
  await waitFor('every alert settled', async () =>
    [...(await pipeline.statuses()).values()].every((status) => status.state !== 'queued'),
  );
  await sleep(500);
  const mails = await parseMails(smtp.messages);
  assert.deepEqual(
    mails.map((mail) => mail.subject),
    ['[pathwatch] PROBE HOST DOWN at outside: its checks there are not judged'],
  );
  const skipped = [...(await pipeline.statuses()).values()].filter((status) => status.kind === 'down');
  assert.equal(skipped.length, 3);
  for (const status of skipped) assert.equal(status.state, 'skipped', `${status.key}: ${status.reason}`);
});

test('a second location failing later turns "outside only" into "service": one follow-up mail; a run that changes nothing sends none', async (t) => {
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  const config = await configWith('verdict', {
    locations: { inside: {}, outside: {} },
    checks: [{ id: 'pay', name: 'Checkout', kind: 'http', http: { url: 'http://127.0.0.1:1/' } }],
    alerting: {
      smtp: { host: '127.0.0.1', port: smtp.port },
      from: 'pathwatch@example.test',
      to: ['oncall@example.test'],
      reminders: { max: 0 },
    },
  });
  const pipeline = startAlertPipeline(config, logger);
  t.after(() => pipeline.stop());
  const beats = [pipeline.recorder.workers.start('inside'), pipeline.recorder.workers.start('outside')];
  t.after(() => Promise.all(beats.map((stop) => stop())));
  const both = ['inside', 'outside'];
  for (const location of both) await pipeline.record(runOf('pay', location, 'pass'), both);
  pipeline.startWorker();
  await pipeline.record(runOf('pay', 'outside', 'fail'), both);
  await waitFor('the down mail', () => smtp.messages.length >= 1);
  await pipeline.record(runOf('pay', 'inside', 'fail'), both);
  await waitFor('the follow-up', () => smtp.messages.length >= 2);
  // Still failing from both: the verdict is unchanged, nothing more to say.
  await pipeline.record(runOf('pay', 'outside', 'fail'), both);
  await pipeline.record(runOf('pay', 'inside', 'fail'), both);
  await sleep(1000);
  const mails = await parseMails(smtp.messages);
  assert.deepEqual(
    mails.map((mail) => mail.subject),
    [
      '[pathwatch] DOWN Checkout — outside only (path): connect to 127.0.0.1:1 refused',
      '[pathwatch] DOWN (verdict changed) Checkout — from everywhere (service): connect to 127.0.0.1:1 refused',
    ],
  );
});

test('routes: by tag and by location, each list once, DEGRADED only where asked for; an unrouted check goes to the default list', async (t) => {
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  const config = await configWith('routes', {
    locations: { inside: {}, outside: {} },
    checks: [
      { id: 'pay', name: 'Checkout', kind: 'http', tags: ['payments'], http: { url: 'http://127.0.0.1:1/' } },
      { id: 'blog', name: 'Blog', kind: 'http', locations: ['inside'], http: { url: 'http://127.0.0.1:1/' } },
    ],
    alerting: {
      smtp: { host: '127.0.0.1', port: smtp.port },
      from: 'pathwatch@example.test',
      to: ['oncall@example.test'],
      lists: {
        payments: { to: ['payments@example.test'] },
        'outside-team': { to: ['network@example.test'], language: 'ja' },
      },
      routes: [
        { tags: ['payments'], notify: ['payments'], degraded: true, subject: '[pay] {{state}} {{check}}' },
        { locations: ['outside'], notify: ['outside-team', 'payments'] },
      ],
      reminders: { max: 0 },
    },
  });
  const pipeline = startAlertPipeline(config, logger);
  t.after(() => pipeline.stop());
  const beats = [pipeline.recorder.workers.start('inside'), pipeline.recorder.workers.start('outside')];
  t.after(() => Promise.all(beats.map((stop) => stop())));
  pipeline.startWorker();
  await pipeline.record(runOf('blog', 'inside', 'fail'), ['inside']);
  await pipeline.record(runOf('pay', 'inside', 'pass'), ['inside', 'outside']);
  await pipeline.record(runOf('pay', 'inside', 'pass', Date.now(), { status: 'degraded' } as never), [
    'inside',
    'outside',
  ]);
  await pipeline.record(runOf('pay', 'outside', 'fail'), ['inside', 'outside']);
  await waitFor('four mails', () => smtp.messages.length >= 4);
  await sleep(800);
  const mails = await parseMails(smtp.messages);
  const byRecipient = (address: string) =>
    mails.filter((mail) => mail.rcpt.includes(address)).map((mail) => mail.subject);
  assert.equal(mails.length, 4, mails.map((mail) => `${mail.rcpt}: ${mail.subject}`).join('\n'));
  assert.deepEqual(byRecipient('oncall@example.test'), [
    '[pathwatch] DOWN Blog — from everywhere (service): connect to 127.0.0.1:1 refused',
  ]);
  assert.deepEqual(byRecipient('payments@example.test').sort(), [
    '[pay] DEGRADED Checkout',
    '[pay] DOWN Checkout',
  ]);
  assert.equal(byRecipient('network@example.test').length, 1);
  assert.match(
    byRecipient('network@example.test')[0] ?? '',
    /^\[pathwatch\] DOWN Checkout — 外部のみ \(経路\)/,
  );
});

test('one alert retried through a mail-server outage counts once toward a storm: it arrives as itself, not as a digest', async (t) => {
  const port = await closedPort();
  const config = await configWith('storm-retry', {
    locations: { inside: {} },
    checks: [{ id: 'pay', name: 'Checkout', kind: 'http', http: { url: 'http://127.0.0.1:1/' } }],
    alerting: {
      smtp: { host: '127.0.0.1', port },
      from: 'pathwatch@example.test',
      to: ['oncall@example.test'],
      storm: { window: '1m', threshold: 1 },
      reminders: { max: 0 },
    },
  });
  const pipeline = startAlertPipeline(config, logger);
  t.after(() => pipeline.stop());
  pipeline.startWorker();
  const [down] = await pipeline.record(runOf('pay', 'inside', 'fail'), ['inside']);
  await waitFor(
    'three failed attempts',
    async () => ((await pipeline.statuses()).get(down.key)?.attempts ?? 0) >= 3,
  );
  const smtp = await startSmtpServer({ port, closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  await waitFor('the mail', () => smtp.messages.length >= 1);
  await sleep(500);
  const mails = await parseMails(smtp.messages);
  assert.deepEqual(
    mails.map((mail) => mail.subject),
    ['[pathwatch] DOWN Checkout: connect to 127.0.0.1:1 refused'],
  );
  assert.equal((await pipeline.statuses()).get(down.key)?.state, 'sent');
});

test('told it was down before a maintenance window opened, a list is told it recovered during it; a down the probe host was blamed for is sent once the target fails elsewhere', async (t) => {
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  const start = Date.now() + 1500;
  const config = await configWith('window-after-down', {
    locations: { inside: {}, outside: { controlCheck: 'outside-gw' } },
    checks: [
      { id: 'pay', name: 'Checkout', kind: 'http', http: { url: 'http://127.0.0.1:1/' } },
      { id: 'shop', name: 'Shop', kind: 'http', http: { url: 'http://127.0.0.1:1/' } },
      { id: 'outside-gw', kind: 'tcp', locations: ['outside'], tcp: { host: '127.0.0.1', port: 1 } },
    ],
    maintenance: [
      {
        name: 'pay-window',
        checks: ['pay'],
        start: new Date(start).toISOString(),
        end: new Date(start + 60_000).toISOString(),
      },
    ],
    alerting: {
      smtp: { host: '127.0.0.1', port: smtp.port },
      from: 'pathwatch@example.test',
      to: ['oncall@example.test'],
      reminders: { max: 0 },
    },
  });
  const pipeline = startAlertPipeline(config, logger);
  t.after(() => pipeline.stop());
  const beats = [pipeline.recorder.workers.start('inside'), pipeline.recorder.workers.start('outside')];
  t.after(() => Promise.all(beats.map((stop) => stop())));
  const both = ['inside', 'outside'];
  for (const id of ['pay', 'shop'])
    for (const location of both) await pipeline.record(runOf(id, location, 'pass'), both);
  await pipeline.record(runOf('outside-gw', 'outside', 'pass'), ['outside']);
  pipeline.startWorker();
  const announcer = startMaintenanceAnnouncer({
    calendar: pipeline.calendar,
    statuses: pipeline.recorder.alerts,
    outbox: pipeline.outbox,
    incidents: pipeline.recorder.incidents,
    logger,
    everyMs: 100,
  });
  t.after(() => announcer.stop());

  // Checkout fails before the window: its down goes out; it recovers inside the window.
  await pipeline.record(runOf('pay', 'inside', 'fail'), both);
  await waitFor('the down mail', () => smtp.messages.length >= 1);
  await waitFor('the window to start', () => Date.now() > start + 300 && smtp.messages.length >= 2);
  await pipeline.record(runOf('pay', 'inside', 'pass'), both);
  // The shop fails at the outside only while its probe host is down: the host is blamed.
  await pipeline.record(runOf('shop', 'outside', 'fail'), both);
  await pipeline.record(runOf('outside-gw', 'outside', 'fail'), ['outside']);
  await waitFor('the probe-host mail', () => smtp.messages.length >= 4);
  // Then it fails from inside too: the target is at fault after all, and its down goes out.
  await pipeline.record(runOf('shop', 'inside', 'fail'), both);
  await waitFor('the shop down mail', () => smtp.messages.length >= 5);
  await sleep(800);
  const subjects = (await parseMails(smtp.messages)).map((mail) => mail.subject ?? '');
  assert.equal(subjects.length, 5, subjects.join('\n'));
  assert.deepEqual(subjects.slice(0, 2), [
    '[pathwatch] DOWN Checkout — inside only (path): connect to 127.0.0.1:1 refused',
    '[pathwatch] MAINTENANCE STARTED: pay-window',
  ]);
  assert.deepEqual(subjects.slice(2).sort(), [
    '[pathwatch] DOWN Shop — from everywhere (service): connect to 127.0.0.1:1 refused',
    '[pathwatch] PROBE HOST DOWN at outside: its checks there are not judged',
    '[pathwatch] UP Checkout',
  ]);
});
