import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { hashApiToken } from '../../src/auth/api-token.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import type { ResultStore } from '../../src/results/result-store.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

const prefix = uniquePrefix('api');
let redis: Redis;
let store: ResultStore;
let app: FastifyInstance;
let securedApp: FastifyInstance;
let appConfig: Awaited<ReturnType<typeof parseConfig>>;
let appRecorder: ResultsRecorder;

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
    checks: [{ id: 'shop-health', kind: 'http', http: { url: 'http://127.0.0.1:4601/health' } }],
    redis: { prefix },
  };
  const config = await parseConfig(raw, '/tmp/api.yaml');
  const recorder = new ResultsRecorder(redis, config, { runsPerSeries: 3 });
  appConfig = config;
  appRecorder = recorder;
  store = recorder.runs;
  app = await buildApp({ config, recorder });
  const secured = await parseConfig(
    { ...raw, api: { tokens: [{ name: 'tester', hash: hashApiToken('let-me-in'), role: 'viewer' }] } },
    '/tmp/api.yaml',
  );
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

test('a series keeps only its configured number of runs, and the older run records are deleted', async () => {
  for (let index = 0; index < 6; index++)
    await store.save(run({ runId: `cap${index}`, startedAt: 10_000 + index, location: 'outside' }));
  const runs = (await app.inject({ url: '/api/v1/checks/shop-health/runs?location=outside' })).json().runs;
  assert.deepEqual(
    runs.map((r: RunResult) => r.runId),
    ['cap5', 'cap4', 'cap3'],
  );
  assert.equal(await store.getRun('cap0'), undefined, 'the run record itself is gone, not only unindexed');
  assert.equal(await redis.exists(`${prefix}:run:cap1`), 0);
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

test('artifacts of a run download through the API, from the artifact store', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { FilesystemArtifactStore } = await import('../../src/artifacts/filesystem-artifact-store.ts');
  const artifacts = new FilesystemArtifactStore(mkdtempSync(join(tmpdir(), 'pathwatch-api-artifacts-')));
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
  const stored = await artifacts.put('runs/art1/failure.png', png, 'image/png');
  await store.save(
    run({
      runId: 'art1',
      startedAt: 9000,
      artifacts: [{ kind: 'screenshot', key: stored.key, bytes: stored.bytes }],
    }),
  );
  const withArtifacts = await buildApp({ config: appConfig, recorder: appRecorder, artifacts });
  try {
    const download = await withArtifacts.inject({ url: '/api/v1/runs/art1/artifacts/failure.png' });
    assert.equal(download.statusCode, 200);
    assert.equal(download.headers['content-type'], 'image/png');
    assert.deepEqual(download.rawPayload, png);
    const missing = await withArtifacts.inject({ url: '/api/v1/runs/art1/artifacts/trace.zip' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'ARTIFACT_NOT_FOUND');
  } finally {
    await withArtifacts.close();
  }
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

test('locations, verdict, rollups, incidents and /metrics are served; run now needs the scheduler', async () => {
  const locations = (await app.inject({ url: '/api/v1/locations' })).json().locations;
  assert.deepEqual(
    locations.map((location: { id: string; side: string; liveWorkers: number }) => [
      location.id,
      location.side,
      location.liveWorkers,
    ]),
    [
      ['inside', 'inside', 0],
      ['outside', 'outside', 0],
    ],
  );
  const check = (await app.inject({ url: '/api/v1/checks/shop-health' })).json();
  assert.equal(check.verdict.verdict, 'no-data', 'no live worker: nothing is blamed');
  assert.deepEqual(check.verdict.unavailable, ['inside', 'outside']);
  const rollups = (await app.inject({ url: '/api/v1/checks/shop-health/rollups?hours=2' })).json().rollups;
  assert.equal(rollups.inside.length, 2);
  assert.deepEqual((await app.inject({ url: '/api/v1/checks/shop-health/incidents' })).json().incidents, []);
  const metrics = await app.inject({ url: '/metrics' });
  assert.equal(metrics.statusCode, 200);
  assert.match(metrics.body, /^pathwatch_check_state\{check="shop-health",location="inside"\} -1$/m);
  assert.match(metrics.body, /^pathwatch_location_live_workers\{location="outside"\} 0$/m);
  assert.match(metrics.body, /^pathwatch_schedule_lag_seconds_bucket\{location="inside",le="\+Inf"\} \d+$/m);
  const runNow = await app.inject({ method: 'POST', url: '/api/v1/checks/shop-health/run' });
  assert.equal(runNow.statusCode, 503);
  assert.equal(runNow.json().error.code, 'NO_QUEUES');
});

test('evidence attached to one run at the same time is all kept', async () => {
  await store.save(run({ runId: 'ev1', startedAt: 20_000 }));
  await Promise.all(
    ['capture.pcap', 'capture-unfiltered.pcap', 'extra.txt'].map((name) =>
      store.attachEvidence('ev1', [{ kind: 'pcap', key: `runs/ev1/${name}` }], { [name]: true }),
    ),
  );
  const stored = await store.getRun('ev1');
  assert.deepEqual(stored?.artifacts?.map((artifact) => artifact.key).sort(), [
    'runs/ev1/capture-unfiltered.pcap',
    'runs/ev1/capture.pcap',
    'runs/ev1/extra.txt',
  ]);
  assert.equal(await store.attachEvidence('nope', [], {}), false);
});
