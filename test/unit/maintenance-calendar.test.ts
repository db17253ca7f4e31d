import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CronExpressionParser } from 'cron-parser';
import type { Redis } from 'ioredis';
import {
  MaintenanceCalendar,
  MaintenanceConfiguredError,
  MaintenanceNameTakenError,
} from '../../src/alerts/maintenance-calendar.ts';
import {
  type MaintenanceWindowInput,
  maintenanceListSchema,
  maintenanceSchema,
} from '../../src/config/maintenance-schema.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 14, maintenance windows: the calendar the alert worker asks before each alert
 * (covering) and the scheduler's clock asks for announcements (boundaries), on a real Redis
 * (API windows live there) under this file's own prefix.
 */
const prefix = uniquePrefix('maint-cal');
let redis: Redis;

before(() => {
  redis = createRedisConnection(SHARED_REDIS_URL);
});
after(async () => {
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
});

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);
const window = (input: MaintenanceWindowInput) => maintenanceSchema.parse(input);
/** Each test its own key space: API windows of one never leak into another. */
let calendars = 0;
const calendar = (configured: MaintenanceWindowInput[], options = {}) =>
  new MaintenanceCalendar(redis, `${prefix}:${++calendars}`, configured.map(window), options);

test('a weekly cron is read in its time zone: "0 2 * * SUN" in Asia/Tokyo starts Saturday 17:00 UTC', async () => {
  const tokyo = calendar([{ name: 'tokyo', cron: '0 2 * * SUN', duration: '2h', timezone: 'Asia/Tokyo' }]);
  const utc = calendar([{ name: 'utc', cron: '0 2 * * SUN', duration: '2h' }]);
  const occurrences = await tokyo.occurrences(at('2026-12-01T00:00:00Z'), at('2026-12-21T00:00:00Z'));
  assert.deepEqual(
    occurrences.map((o) => [new Date(o.start).toISOString(), new Date(o.end).toISOString()]),
    [
      ['2026-12-05T17:00:00.000Z', '2026-12-05T19:00:00.000Z'],
      ['2026-12-12T17:00:00.000Z', '2026-12-12T19:00:00.000Z'],
      ['2026-12-19T17:00:00.000Z', '2026-12-19T19:00:00.000Z'],
    ],
  );
  // Covered from its first millisecond to just before its end, not outside.
  const target = { checkId: 'shop' };
  assert.equal(await tokyo.covering(target, at('2026-12-05T16:59:59.999Z')), undefined);
  assert.equal((await tokyo.covering(target, at('2026-12-05T17:00:00Z')))?.name, 'tokyo');
  assert.equal((await tokyo.covering(target, at('2026-12-05T18:59:59.999Z')))?.name, 'tokyo');
  assert.equal(await tokyo.covering(target, at('2026-12-05T19:00:00Z')), undefined);
  // The same expression in UTC is another time: the zone is not ignored.
  assert.equal(await utc.covering(target, at('2026-12-05T17:30:00Z')), undefined);
  assert.equal((await utc.covering(target, at('2026-12-06T02:30:00Z')))?.name, 'utc');
});

test('a daily cron follows its zone across a daylight-saving change (New York, 1 November 2026)', async () => {
  const ny = calendar([
    { name: 'nightly', cron: '0 3 * * *', duration: '30m', timezone: 'America/New_York' },
  ]);
  const starts = (await ny.occurrences(at('2026-10-30T12:00:00Z'), at('2026-11-02T12:00:00Z'))).map((o) =>
    new Date(o.start).toISOString(),
  );
  // 03:00 EDT is 07:00 UTC; after the change 03:00 EST is 08:00 UTC.
  assert.deepEqual(starts, [
    '2026-10-31T07:00:00.000Z',
    '2026-11-01T08:00:00.000Z',
    '2026-11-02T08:00:00.000Z',
  ]);
});

test('a one-off window covers [start, end) and its start and end are boundaries once', async () => {
  const cal = calendar([
    {
      name: 'db-upgrade',
      reason: 'database upgrade',
      start: '2026-12-24T22:00:00+01:00',
      end: '2026-12-25T01:00:00+01:00',
    },
  ]);
  const start = at('2026-12-24T21:00:00Z');
  const end = at('2026-12-25T00:00:00Z');
  assert.deepEqual(await cal.covering({ checkId: 'anything' }, start + HOUR), {
    name: 'db-upgrade',
    reason: 'database upgrade',
    start,
    end,
    scope: '',
    source: 'config',
  });
  assert.equal(await cal.covering({}, start - 1), undefined);
  assert.equal(await cal.covering({}, end), undefined);
  const boundaries = await cal.boundaries(start - HOUR, end + HOUR);
  assert.deepEqual(
    boundaries.map((b) => [b.kind, b.at, b.window.name]),
    [
      ['start', start, 'db-upgrade'],
      ['end', end, 'db-upgrade'],
    ],
  );
  // Ranges are (from, to]: a clock asking tick by tick sees each boundary exactly once.
  assert.deepEqual(
    (await cal.boundaries(start - 1000, start)).map((b) => b.kind),
    ['start'],
  );
  assert.deepEqual(await cal.boundaries(start, start + 1000), []);
  assert.deepEqual(
    (await cal.boundaries(end - 1, end)).map((b) => b.kind),
    ['end'],
  );
  assert.deepEqual(await cal.boundaries(start, end - 1), []);
  assert.deepEqual(await cal.occurrences(end, end + HOUR), [], 'ended at `end`: not in a range from `end`');
  assert.equal((await cal.occurrences(end - 1, end + HOUR)).length, 1);
});

test('covering: checks include the check, tags share one, locations include every location of the alert', async () => {
  const t = at('2026-12-10T12:00:00Z');
  const oneOff = { start: '2026-12-10T11:00:00Z', end: '2026-12-10T13:00:00Z' };
  const cal = calendar([
    { name: 'shop-outside', checks: ['shop', 'api'], locations: ['outside', 'cloud'], ...oneOff },
    { name: 'db-tagged', tags: ['db', 'storage'], ...oneOff },
  ]);
  const name = async (target: Parameters<MaintenanceCalendar['covering']>[0]) =>
    (await cal.covering(target, t))?.name;
  assert.equal(await name({ checkId: 'shop', locations: ['outside'] }), 'shop-outside');
  assert.equal(await name({ checkId: 'shop', locations: ['outside', 'cloud'] }), 'shop-outside');
  // Failing inside too: the inside failure is real, so nothing holds it back.
  assert.equal(await name({ checkId: 'shop', locations: ['outside', 'inside'] }), undefined);
  assert.equal(await name({ checkId: 'shop' }), undefined, 'no location named: not shown to be outside only');
  assert.equal(await name({ checkId: 'web', locations: ['outside'] }), undefined);
  assert.equal(await name({ locations: ['outside'] }), undefined, 'no check named: not one of its checks');
  assert.equal(await name({ checkId: 'pg', tags: ['web', 'db'], locations: ['inside'] }), 'db-tagged');
  assert.equal(await name({ checkId: 'pg', tags: ['web'] }), undefined);
  assert.equal(await name({ checkId: 'pg' }), undefined);
  const occurrence = await cal.covering({ checkId: 'api', locations: ['cloud'] }, t);
  assert.equal(occurrence?.scope, 'checks: shop, api; locations: outside, cloud');
  // A window naming nothing covers everything; when several cover, the one ending last.
  const wide = calendar([
    { name: 'short', start: '2026-12-10T11:00:00Z', end: '2026-12-10T12:30:00Z' },
    { name: 'long', start: '2026-12-10T10:00:00Z', end: '2026-12-10T14:00:00Z' },
    { name: 'mid', start: '2026-12-10T11:30:00Z', end: '2026-12-10T13:00:00Z' },
  ]);
  assert.equal((await wide.covering({}, t))?.name, 'long');
});

test('boundaries: in time order, an end before a start at the same moment, overlapping ranges cut right', async () => {
  const cal = calendar([
    // Back to back every 2 hours: each end meets the next start.
    { name: 'slots', cron: '0 */2 * * *', duration: '2h' },
    { name: 'late', start: '2026-12-10T01:30:00Z', end: '2026-12-10T03:30:00Z' },
  ]);
  const from = at('2026-12-10T00:30:00Z');
  const to = at('2026-12-10T04:00:00Z');
  const seen = (await cal.boundaries(from, to)).map(
    (b) => `${new Date(b.at).toISOString().slice(11, 16)} ${b.kind} ${b.occurrence.name}`,
  );
  assert.deepEqual(seen, [
    '01:30 start late',
    '02:00 end slots',
    '02:00 start slots',
    '03:30 end late',
    '04:00 end slots',
    '04:00 start slots',
  ]);
  // The occurrence that started before `from` is announced ending, not starting.
  const first = (await cal.boundaries(from, at('2026-12-10T02:00:00Z'))).find((b) => b.kind === 'end');
  assert.equal(first?.occurrence.start, at('2026-12-10T00:00:00Z'));
  // Splitting a range in two gives the same boundaries as asking once.
  const mid = at('2026-12-10T02:00:00Z');
  const split = [...(await cal.boundaries(from, mid)), ...(await cal.boundaries(mid, to))];
  assert.deepEqual(
    split.map((b) => `${b.at} ${b.kind} ${b.occurrence.name}`),
    (await cal.boundaries(from, to)).map((b) => `${b.at} ${b.kind} ${b.occurrence.name}`),
  );
});

test('a query walks at most maxOccurrencesPerWindow occurrences of one window', async () => {
  const cal = calendar([{ name: 'every-minute', cron: '* * * * *', duration: '1m' }], {
    maxOccurrencesPerWindow: 50,
  });
  const from = at('2026-12-10T00:00:00Z');
  assert.equal((await cal.occurrences(from, from + 14 * 24 * HOUR)).length, 50);
});

test('a cron expression is compiled once, not at every question', async () => {
  const parse = CronExpressionParser.parse;
  let parsed = 0;
  CronExpressionParser.parse = (...args: Parameters<typeof parse>) => {
    parsed++;
    return parse(...args);
  };
  try {
    const cal = calendar([{ name: 'weekly', cron: '0 2 * * SUN', duration: '2h' }]);
    await cal.add(window({ name: 'api-weekly', cron: '0 3 * * SUN', duration: '1h' }));
    const before = parsed;
    for (let minute = 0; minute < 200; minute++) {
      await cal.covering({ checkId: 'shop' }, at('2026-12-06T00:00:00Z') + minute * 60_000);
      await cal.boundaries(at('2026-12-06T00:00:00Z'), at('2026-12-07T00:00:00Z'));
    }
    await cal.list();
    assert.equal(parsed - before, 0, 'no parse while answering');
  } finally {
    CronExpressionParser.parse = parse;
  }
});

test('API windows: added, seen by another process, refused under a taken name, removed; config ones stay', async () => {
  const key = `${prefix}:shared`;
  const configured = [window({ name: 'weekly', cron: '0 2 * * SUN', duration: '2h' })];
  const api = new MaintenanceCalendar(redis, key, configured);
  // Another process (the alert worker) that reads Redis at every question, and one that caches for a minute.
  const fresh = new MaintenanceCalendar(redis, key, configured, { apiWindowsTtlMs: 0 });
  const cached = new MaintenanceCalendar(redis, key, configured, { apiWindowsTtlMs: 60_000 });
  const t = at('2026-12-10T12:00:00Z');
  assert.equal(await cached.covering({ checkId: 'shop' }, t), undefined);

  await api.add(
    window({ name: 'hotfix', checks: ['shop'], start: '2026-12-10T11:00:00Z', end: '2026-12-10T13:00:00Z' }),
  );
  assert.deepEqual(await fresh.covering({ checkId: 'shop' }, t), {
    name: 'hotfix',
    start: at('2026-12-10T11:00:00Z'),
    end: at('2026-12-10T13:00:00Z'),
    scope: 'checks: shop',
    source: 'api',
  });
  assert.equal(
    await cached.covering({ checkId: 'shop' }, t),
    undefined,
    'read less than a minute ago: cached',
  );
  assert.deepEqual(
    (await cached.list()).map((w) => [w.name, w.source]),
    [
      ['weekly', 'config'],
      ['hotfix', 'api'],
    ],
    'list() reads Redis afresh',
  );

  await assert.rejects(api.add(window({ name: 'weekly', cron: '0 1 * * *', duration: '1h' })), (error) => {
    assert.ok(error instanceof MaintenanceNameTakenError);
    assert.match(error.message, /maintenance window "weekly" already exists in the config file/);
    return true;
  });
  await assert.rejects(
    fresh.add(window({ name: 'hotfix', cron: '0 1 * * *', duration: '1h' })),
    /maintenance window "hotfix" already exists \(made through the API\)/,
  );
  // The refused add changed nothing: still the one-off window.
  assert.equal((await fresh.list()).find((w) => w.name === 'hotfix')?.cron, undefined);

  await assert.rejects(api.remove('weekly'), MaintenanceConfiguredError);
  assert.equal(await fresh.remove('hotfix'), true);
  assert.equal(await fresh.remove('hotfix'), false);
  assert.equal(
    await api.covering({ checkId: 'shop' }, t),
    undefined,
    'removed through this one: no stale cache',
  );
  assert.deepEqual(
    (await api.list()).map((w) => w.name),
    ['weekly'],
  );
});

test('a stored window that cannot be read is skipped, not a failure of every alert', async () => {
  const key = `${prefix}:garbled`;
  const cal = new MaintenanceCalendar(redis, key, [], { apiWindowsTtlMs: 0 });
  await cal.add(window({ name: 'good', start: '2026-12-10T11:00:00Z', end: '2026-12-10T13:00:00Z' }));
  await redis.hset(`${key}:maintenance`, 'bad', '{"name":"bad","cron":"not cron","duration":60000}');
  await redis.hset(`${key}:maintenance`, 'worse', '{not json');
  assert.equal((await cal.covering({}, at('2026-12-10T12:00:00Z')))?.name, 'good');
  assert.deepEqual(
    (await cal.list()).map((w) => w.name),
    ['good'],
  );
});

test('config names are unique: the list schema names the duplicate, the calendar refuses one too', () => {
  const parsed = maintenanceListSchema.safeParse([
    { name: 'weekly', cron: '0 2 * * SUN', duration: '2h' },
    { name: 'weekly', start: '2026-12-24T22:00:00+01:00', end: '2026-12-24T23:00:00+01:00' },
  ]);
  assert.equal(parsed.success, false);
  assert.deepEqual(
    parsed.error?.issues.map((issue) => [issue.path.join('.'), issue.message]),
    [['1.name', 'duplicate maintenance window name "weekly", already used by maintenance[0]']],
  );
  assert.throws(
    () =>
      calendar([
        { name: 'twice', cron: '0 2 * * SUN', duration: '2h' },
        { name: 'twice', cron: '0 3 * * SUN', duration: '2h' },
      ]),
    MaintenanceNameTakenError,
  );
});
