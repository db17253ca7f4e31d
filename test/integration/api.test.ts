import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import type { RunResult } from '../../src/checks/run-result.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import type { ResultStore } from '../../src/results/result-store.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

const prefix = uniquePrefix('api');
let redis: Redis;
let store: ResultStore;
let app: FastifyInstance;
let securedApp: FastifyInstance;

function run(overrides: Partial<RunResult>): RunResult {
  return {
    runId: 'r1',
    checkId: 'shop-health',
    kind: 'http',
    location: 'inside',
    startedAt: 1_700_000_000_000,
    finishedAt: 1_700_000_000_020,
    attempt: 1,
    status: 'pass',
    phases: { connect: 1, firstByte: 5, total: 20 },
    peers: [{ ip: '127.0.0.1', port: 4601 }],
    ...overrides,
  };
}

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  const raw = {
    locations: { inside: {}, outside: {} },
    checks: [{ id: 'shop-health', kind: 'http', url: 'http://127.0.0.1:4601/health' }],
    redis: { prefix },
  };
  const config = await parseConfig(raw, '/tmp/api.yaml');
  const recorder = new ResultsRecorder(redis, config, { runsPerSeries: 3 });
  store = recorder.runs;
  app = await buildApp({ config, recorder });
  const secured = await parseConfig({ ...raw, api: { tokens: ['${env:API_TOKEN}'] } }, '/tmp/api.yaml', {
    API_TOKEN: 'let-me-in',
  });
  securedApp = await buildApp({ config: secured, recorder });
});

after(async () => {
  await app.close();
  await securedApp.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
});

test('runs are listed newest first, per location, and the latest state per location is served', async () => {
  await store.save(run({ runId: 'a1', startedAt: 1000 }));
  await store.save(
    run({
      runId: 'a2',
      startedAt: 2000,
      status: 'fail',
      error: { class: 'refused', message: 'connect to 127.0.0.1:4601 refused' },
    }),
  );
  await store.save(run({ runId: 'b1', startedAt: 1500, location: 'outside' }));
  const runs = await app.inject({ url: '/api/v1/checks/shop-health/runs' });
  assert.equal(runs.statusCode, 200);
  assert.deepEqual(
    runs.json().runs.map((r: RunResult) => r.runId),
    ['a2', 'b1', 'a1'],
  );
  const inside = await app.inject({ url: '/api/v1/checks/shop-health/runs?location=inside&limit=1' });
  assert.deepEqual(
    inside.json().runs.map((r: RunResult) => r.runId),
    ['a2'],
  );
  const checks = await app.inject({ url: '/api/v1/checks' });
  const [check] = checks.json().checks;
  assert.equal(check.id, 'shop-health');
  assert.equal(check.latest.inside.status, 'fail');
  assert.equal(check.latest.inside.error, 'connect to 127.0.0.1:4601 refused');
  assert.equal(check.latest.outside.status, 'pass');
});

test('saving the same run id twice stores it once', async () => {
  await store.save(run({ runId: 'dup', startedAt: 5000, location: 'outside' }));
  await store.save(run({ runId: 'dup', startedAt: 5000, location: 'outside' }));
  const runs = (await app.inject({ url: '/api/v1/checks/shop-health/runs?location=outside' })).json().runs;
  assert.equal(runs.filter((r: RunResult) => r.runId === 'dup').length, 1);
});

test('a series keeps only its configured number of runs', async () => {
  for (let index = 0; index < 6; index++)
    await store.save(run({ runId: `cap${index}`, startedAt: 10_000 + index, location: 'outside' }));
  const runs = (await app.inject({ url: '/api/v1/checks/shop-health/runs?location=outside' })).json().runs;
  assert.deepEqual(
    runs.map((r: RunResult) => r.runId),
    ['cap5', 'cap4', 'cap3'],
  );
});

test('one run by id, and clear 404s with a code', async () => {
  assert.equal((await app.inject({ url: '/api/v1/runs/a2' })).json().error.class, 'refused');
  const missingRun = await app.inject({ url: '/api/v1/runs/nope' });
  assert.equal(missingRun.statusCode, 404);
  assert.equal(missingRun.json().error.code, 'RUN_NOT_FOUND');
  const missingCheck = await app.inject({ url: '/api/v1/checks/nope/runs' });
  assert.equal(missingCheck.statusCode, 404);
  assert.deepEqual(missingCheck.json(), {
    error: { code: 'CHECK_NOT_FOUND', message: 'no check or journey with id "nope"' },
  });
  const badLocation = await app.inject({ url: '/api/v1/checks/shop-health/runs?location=mars' });
  assert.equal(badLocation.statusCode, 400);
  assert.match(badLocation.json().error.message, /does not run at "mars"/);
  const badLimit = await app.inject({ url: '/api/v1/checks/shop-health/runs?limit=0' });
  assert.equal(badLimit.statusCode, 400);
  assert.equal(badLimit.json().error.code, 'BAD_REQUEST');
});

test('with api.tokens set, the API needs a bearer token; health does not', async () => {
  assert.equal((await securedApp.inject({ url: '/api/v1/checks' })).statusCode, 401);
  assert.equal(
    (await securedApp.inject({ url: '/api/v1/checks', headers: { authorization: 'Bearer wrong' } }))
      .statusCode,
    401,
  );
  assert.equal(
    (await securedApp.inject({ url: '/api/v1/checks', headers: { authorization: 'Bearer let-me-in' } }))
      .statusCode,
    200,
  );
  assert.equal((await securedApp.inject({ url: '/healthz' })).statusCode, 200);
});
