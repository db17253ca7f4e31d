import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { parseCsv } from '../helpers/parse-csv.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 15, Reports: GET /api/v1/reports against runs recorded in Redis over four past
 * hours, with two maintenance windows, compared with numbers worked out by hand below.
 *
 * The day is the one that began at UTC midnight two days ago (`base`); hours 0–3 of it have
 * six runs per check × location, at minutes 0, 10, …, 50, taking 3, 8, 20, 40, 90, 200 ms
 * (one of each bucket up to 250 ms). runsPerSeries is 10, so only the newest 10 runs of a
 * series are still stored: hour 3's six and hour 2's last four.
 *
 * - shop@inside: hour 0's run at minute 50 fails; hour 3's six take 4000 ms.
 * - shop@outside: hour 1 all fail, minutes 0 and 40 of hour 2 fail. Window "cutover" covers
 *   shop@outside from 01:00 to 02:30: hour 1 is dropped; hour 2 is half covered and its
 *   runs are no longer all stored, so it counts half of its rollup.
 * - api@both: window "deploy" covers api everywhere 03:20–03:40; hour 3's runs are all
 *   stored, so minutes 20 and 30 are left out exactly. api@outside's minute 20 of hour 3
 *   fails (inside the window). api@inside's minute 50 of hour 3 fails, is retried at once
 *   and fails again (two stored runs, one counted: a real failure).
 */
const prefix = uniquePrefix('reports');
const dir = mkdtempSync(join(tmpdir(), 'pw-reports-'));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const base = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
const iso = (at: number) => new Date(at).toISOString();
const LATENCIES = [3, 8, 20, 40, 90, 200];
let redis: Redis;
let app: FastifyInstance;

function run(checkId: string, location: string, hour: number, index: number, over: Partial<RunResult> = {}) {
  const startedAt = base + hour * HOUR + index * 10 * 60_000;
  return {
    runId: `${checkId}-${location}-${hour}-${index}`,
    checkId,
    kind: 'http',
    location,
    startedAt,
    finishedAt: startedAt + 1,
    attempt: 1,
    status: 'pass',
    phases: { total: LATENCIES[index] },
    peers: [],
    ...over,
  } as RunResult;
}

function failsIn(checkId: string, location: string, hour: number, index: number): boolean {
  if (checkId === 'shop' && location === 'inside') return hour === 0 && index === 5;
  if (checkId === 'shop' && location === 'outside')
    return hour === 1 || (hour === 2 && (index === 0 || index === 4));
  return location === 'outside' && hour === 3 && index === 2;
}

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: [
        { id: 'shop', name: 'Shop, front page', kind: 'http', http: { url: 'http://127.0.0.1:4601/' } },
        { id: 'api', kind: 'http', http: { url: 'http://127.0.0.1:4601/api' } },
      ],
      maintenance: [
        {
          name: 'cutover',
          start: iso(base + HOUR),
          end: iso(base + 2.5 * HOUR),
          checks: ['shop'],
          locations: ['outside'],
        },
        {
          name: 'deploy',
          start: iso(base + 3 * HOUR + 20 * 60_000),
          end: iso(base + 3 * HOUR + 40 * 60_000),
          checks: ['api'],
        },
      ],
      reports: { target: 99.95 },
      runsPerSeries: 10,
      redis: { prefix },
    },
    join(dir, 'pathwatch.yaml'),
  );
  const recorder = new ResultsRecorder(redis, config);
  const options = { counted: true, policy: { downAfter: 1, upAfter: 1 }, locations: ['inside', 'outside'] };
  for (const checkId of ['shop', 'api'])
    for (const location of ['inside', 'outside'])
      for (let hour = 0; hour < 4; hour++)
        for (let index = 0; index < 6; index++) {
          const slow = checkId === 'shop' && location === 'inside' && hour === 3;
          const result = run(checkId, location, hour, index, {
            ...(failsIn(checkId, location, hour, index) ? { status: 'fail' } : {}),
            ...(slow ? { phases: { total: 4000 } } : {}),
          });
          if (checkId === 'api' && location === 'inside' && hour === 3 && index === 5) {
            // A failed attempt retried at once: stored, not counted; its retry, failed too, is.
            await recorder.recordRun({ ...result, status: 'fail' }, { ...options, counted: false });
            await recorder.recordRun(
              {
                ...result,
                runId: `${result.runId}-2`,
                status: 'fail',
                attempt: 2,
                startedAt: result.startedAt + 1,
              },
              options,
            );
          } else await recorder.recordRun(result, options);
        }
  app = await buildApp({ config, recorder, redis });
});

after(async () => {
  await app?.close();
  await deleteKeysWithPrefix(prefix);
  redis?.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const report = async (query: string) => {
  const response = await app.inject({ url: `/api/v1/reports?${query}` });
  assert.equal(response.statusCode, 200, response.body);
  return response;
};

/** What each row must say, worked out by hand (see the comment at the top). */
const EXPECTED = {
  shop: {
    inside: {
      // 24 runs, 1 failure: 23/24. Buckets 5…250 ms hold 3 each, 5000 ms holds 6: rank 12 is
      // the 12th (50 ms bucket), ranks 22.8 and 23.76 fall in 5000.
      runs: 24,
      failures: 1,
      excludedRuns: 0,
      availability: 95.8333,
      p50: 50,
      p95: 5000,
      p99: 5000,
      // failed 4.1667 % of an allowed 0.05 %: (0.05 − 4.16667) / 0.05 = −8233.33 %.
      leftPercent: -8233.33,
    },
    outside: {
      // hours 0 and 3: 12 runs; hour 1 dropped (6); hour 2 half: 3 runs, 1 failure (3 excluded).
      runs: 15,
      failures: 1,
      excludedRuns: 9,
      availability: 93.3333,
      // 2.5 runs per bucket 5…250: rank 7.5 ends at 25 ms; 14.25 and 14.85 in 250 ms.
      p50: 25,
      p95: 250,
      p99: 250,
      leftPercent: -13233.33,
    },
    total: {
      // 39 runs, 2 failures: 37/39; buckets 5.5 each to 250 ms, 6 at 5000: rank 19.5 → 50 ms.
      runs: 39,
      failures: 2,
      excludedRuns: 9,
      availability: 94.8718,
      p50: 50,
      p95: 5000,
      p99: 5000,
      leftPercent: -10156.41,
    },
  },
  api: {
    // 18 runs in hours 0–2, hour 3 keeps minutes 0, 10, 40, 50 (3, 8, 90, 200 ms): 22 runs;
    // buckets 4, 4, 3, 3, 4, 4: rank 11 → 25 ms, 20.9 and 21.78 → 250 ms.
    // api@inside's minute-50 run of hour 3 failed (its retry counted): 21/22; failed 4.5455 %
    // of 0.05 %: (0.05 − 4.54545) / 0.05 = −8990.91 %.
    inside: {
      runs: 22,
      failures: 1,
      excludedRuns: 2,
      availability: 95.4545,
      p50: 25,
      p95: 250,
      p99: 250,
      leftPercent: -8990.91,
    },
    outside: {
      runs: 22,
      failures: 0,
      excludedRuns: 2,
      availability: 100,
      p50: 25,
      p95: 250,
      p99: 250,
      leftPercent: 100,
    },
    // 43/44; failed 2.2727 %: (0.05 − 2.27273) / 0.05 = −4445.45 %.
    total: {
      runs: 44,
      failures: 1,
      excludedRuns: 4,
      availability: 97.7273,
      p50: 25,
      p95: 250,
      p99: 250,
      leftPercent: -4445.45,
    },
  },
};

type Row = {
  location?: string;
  runs: number;
  failures: number;
  excludedRuns: number;
  availability?: number;
  p50?: number;
  p95?: number;
  p99?: number;
  errorBudget: { allowedPercent: number; leftPercent: number };
};
const shape = ({ runs, failures, excludedRuns, availability, p50, p95, p99, errorBudget }: Row) => ({
  runs,
  failures,
  excludedRuns,
  availability,
  p50,
  p95,
  p99,
  leftPercent: errorBudget.leftPercent,
});

/** Every row of a report against EXPECTED. */
function assertExpected(body: { checks: Array<{ id: 'shop' | 'api'; locations: Row[]; total: Row }> }) {
  for (const check of body.checks) {
    const expected = EXPECTED[check.id];
    assert.deepEqual(
      check.locations.map((row) => row.location),
      ['inside', 'outside'],
    );
    for (const row of check.locations)
      assert.deepEqual(
        shape(row),
        expected[row.location as 'inside' | 'outside'],
        `${check.id}@${row.location}`,
      );
    assert.deepEqual(shape(check.total), expected.total, `${check.id} total`);
    assert.equal(check.total.errorBudget.allowedPercent, 0.05);
  }
}

test('a day: availability, percentiles and error budget per check and location equal the hand-worked figures', async () => {
  const body = (await report(`period=day&end=${iso(base + DAY)}`)).json();
  assert.equal(body.from, base);
  assert.equal(body.to, base + DAY);
  assert.equal(body.target, 99.95);
  assertExpected(body);
  assert.equal(body.checks[0].name, 'Shop, front page');
});

test('the day summaries kept by the first report give the same figures the next time', async () => {
  // The first report summed the day of every series once, maintenance or not; the next
  // takes the sums and takes the maintained hours back out of them.
  for (const series of ['shop:inside', 'shop:outside', 'api:inside', 'api:outside'])
    assert.ok(await redis.exists(`${prefix}:report-day:${series}:${base}`), `a summary of ${series}'s day`);
  assertExpected((await report(`period=day&end=${base + DAY}`)).json());
  // A week ending the same moment reads the same runs (the other days have none).
  const week = (await report(`period=week&end=${base + DAY}`)).json();
  assert.equal(week.from, base + DAY - 7 * DAY);
  assertExpected(week);
});

test('the CSV download parses (RFC 4180) and says what the JSON says', async () => {
  const end = iso(base + DAY);
  const json = (await report(`period=day&end=${end}`)).json();
  const response = await report(`period=day&end=${end}&format=csv`);
  assert.match(String(response.headers['content-type']), /^text\/csv/);
  assert.equal(
    response.headers['content-disposition'],
    `attachment; filename="pathwatch-report-day-${iso(base).slice(0, 10)}.csv"`,
  );
  const [header, ...rows] = parseCsv(response.body);
  assert.equal(header[0], 'check');
  const records = rows.map((fields) =>
    Object.fromEntries(header.map((name, index) => [name, fields[index]])),
  );
  assert.equal(records.length, 6, 'a row per check × location and a total per check');
  // The name holds a comma: quoted, and read back whole.
  assert.ok(response.body.includes('"Shop, front page"'));
  const fromJson = json.checks.flatMap((check: { id: string; name: string; locations: Row[]; total: Row }) =>
    [...check.locations, check.total].map((row) => ({
      check: check.id,
      name: check.name,
      location: row.location ?? 'all',
      runs: String(row.runs),
      failures: String(row.failures),
      availability_percent: String(row.availability ?? ''),
      error_budget_left_percent: String(row.errorBudget.leftPercent),
      p50_ms: String(row.p50 ?? ''),
      p95_ms: String(row.p95 ?? ''),
      p99_ms: String(row.p99 ?? ''),
      target_percent: '99.95',
    })),
  );
  assert.deepEqual(
    records.map((record) => Object.fromEntries(Object.keys(fromJson[0]).map((name) => [name, record[name]]))),
    fromJson,
  );
});

test('bad parameters: 400, one line naming the parameter and what it takes', async () => {
  for (const [query, pattern] of [
    ['period=year', /^query parameter "period" must be one of day, week, month, got "year"$/],
    ['end=garbage', /^query parameter "end" must be a time: ISO 8601 with a zone .* got "garbage"$/],
    ['format=xml', /^query parameter "format" must be one of json, csv, got "xml"$/],
    ['colour=red', /^unknown query parameter "colour"; this route takes period, end, format$/],
  ] as const) {
    const response = await app.inject({ url: `/api/v1/reports?${query}` });
    assert.equal(response.statusCode, 400, query);
    const { message } = response.json().error;
    assert.match(message, pattern);
    assert.ok(!message.includes('\n'));
  }
});
