import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult, RunStatus } from '../../src/results/run-result.ts';
import { openRunQueue } from '../../src/scheduler/run-queue.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startRunWorker } from '../../workers/run-worker.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { startHttpServer, type TestServer } from '../helpers/test-servers.ts';

const prefix = uniquePrefix('state');
const locations = ['inside', 'outside'];
let redis: Redis;
let recorder: ResultsRecorder;
let flaky: TestServer;
let requests = 0;

function run(runId: string, status: RunStatus, location = 'inside', startedAt = Date.now()): RunResult {
  return {
    runId,
    checkId: 'shop',
    kind: 'http',
    location,
    startedAt,
    finishedAt: startedAt + 5,
    attempt: 1,
    status,
    phases: { total: 5 },
    peers: [],
    ...(status === 'fail'
      ? { error: { class: 'refused' as const, message: 'connect to 127.0.0.1:1 refused' } }
      : {}),
  };
}

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  flaky = await startHttpServer((_request, response) => {
    requests++;
    response.statusCode = requests === 1 ? 500 : 200; // fails exactly once
    response.end();
  });
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: [
        { id: 'shop', kind: 'http', downAfter: 2, http: { url: 'http://127.0.0.1:1/' } },
        {
          id: 'flaky',
          kind: 'http',
          locations: ['inside'],
          retryDelay: '10ms',
          http: { url: `${flaky.url}/` },
        },
      ],
      redis: { prefix },
    },
    '/tmp/state.yaml',
  );
  recorder = new ResultsRecorder(redis, config);
});

after(async () => {
  await flaky.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
});

test('DOWN after N counted failures, UP after K passes, each run counted once', async () => {
  const policy = { downAfter: 2, upAfter: 1 };
  assert.equal(
    await recorder.record(run('r1', 'fail'), { counted: true, policy, locations }),
    undefined,
    'one failure is not DOWN yet',
  );
  assert.equal((await recorder.states.get('shop', 'inside')).consecutiveFailures, 1);
  assert.equal(
    await recorder.record(run('r1', 'fail'), { counted: true, policy, locations }),
    undefined,
    'the same run again changes nothing',
  );
  assert.equal(
    (await recorder.states.get('shop', 'inside')).consecutiveFailures,
    1,
    'a redone run is counted once',
  );
  const down = await recorder.record(run('r2', 'fail'), { counted: true, policy, locations });
  assert.deepEqual([down?.from, down?.to], ['UNKNOWN', 'DOWN']);
  const incident = (await recorder.incidents.list('shop'))[0];
  assert.deepEqual(incident.downNow, ['inside']);
  assert.equal(incident.firstError, 'connect to 127.0.0.1:1 refused');
  assert.equal(incident.end, undefined);
  const up = await recorder.record(run('r3', 'pass'), { counted: true, policy, locations });
  assert.deepEqual([up?.from, up?.to], ['DOWN', 'UP']);
  const closed = (await recorder.incidents.list('shop'))[0];
  assert.equal(closed.id, incident.id);
  assert.ok(closed.end !== undefined, 'the incident ended when the last location came back');
});

test('an attempt that is not counted is stored but moves nothing', async () => {
  await recorder.record(run('n1', 'fail', 'outside'), {
    counted: false,
    policy: { downAfter: 1, upAfter: 1 },
    locations,
  });
  assert.equal((await recorder.states.get('shop', 'outside')).state, 'UNKNOWN');
  assert.equal((await recorder.runs.getRun('n1'))?.status, 'fail');
});

test('flapping is detected and shown', async () => {
  const policy = { downAfter: 1, upAfter: 1, flapThreshold: 4 };
  const start = Date.now();
  for (const [index, status] of (['fail', 'pass', 'fail', 'pass'] as const).entries()) {
    await recorder.record(run(`f${index}`, status, 'outside', start + index), {
      counted: true,
      policy,
      locations,
    });
  }
  assert.equal((await recorder.states.get('shop', 'outside')).flapping, true);
});

test('a check that fails once then passes on the retry never becomes DOWN, and its failed attempt stays in the history', async () => {
  const config = (recorder as unknown as { config: Parameters<typeof startRunWorker>[0]['config'] }).config;
  const connection = createRedisConnection(SHARED_REDIS_URL);
  const queue = openRunQueue('inside', redis, prefix);
  const attempts: RunResult[] = [];
  try {
    const done = new Promise<void>((resolve) => {
      const worker = startRunWorker({
        config,
        location: 'inside',
        connection,
        recorder,
        logger: createLogger('test', 'silent'),
        onResult: (result) => {
          if (result.checkId !== 'flaky') return;
          attempts.push(result);
          if (result.status === 'pass') void worker.close().then(resolve);
        },
      });
    });
    await queue.add('run', { checkId: 'flaky', location: 'inside', requestedAt: Date.now() });
    await done;
  } finally {
    await queue.close();
    connection.disconnect();
  }
  assert.deepEqual(
    attempts.map((attempt) => [attempt.attempt, attempt.status]),
    [
      [1, 'fail'],
      [2, 'pass'],
    ],
  );
  const state = await recorder.states.get('flaky', 'inside');
  assert.equal(state.state, 'UP');
  assert.equal(state.consecutiveFailures, 0);
  const history = await recorder.runs.listRuns('flaky', { location: 'inside' });
  assert.deepEqual(history.map((entry) => [entry.attempt, entry.status]).sort(), [
    [1, 'fail'],
    [2, 'pass'],
  ]);
  assert.equal((await recorder.incidents.list('flaky')).length, 0, 'no incident was opened');
});

test("a location whose control check is DOWN is the probe host's fault; the control check itself is still judged", async () => {
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: { controlCheck: 'gateway' } },
      checks: [
        { id: 'shop', kind: 'http', http: { url: 'http://127.0.0.1:1/' } },
        { id: 'gateway', kind: 'tcp', tcp: { host: '127.0.0.1', port: 1 } },
      ],
      redis: { prefix: `${prefix}-control` },
    },
    '/tmp/control.yaml',
  );
  const controlled = new ResultsRecorder(redis, config);
  const stopInside = controlled.workers.start('inside');
  const stopOutside = controlled.workers.start('outside');
  try {
    const policy = { downAfter: 1, upAfter: 1 };
    await controlled.record({ ...run('c1', 'pass', 'inside') }, { counted: true, policy, locations });
    await controlled.record({ ...run('c2', 'fail', 'outside') }, { counted: true, policy, locations });
    await controlled.record(
      { ...run('g1', 'fail', 'outside'), checkId: 'gateway' },
      { counted: true, policy, locations },
    );
    await controlled.record(
      { ...run('g2', 'pass', 'inside'), checkId: 'gateway' },
      { counted: true, policy, locations },
    );
    const views = await controlled.describeLocations();
    const shop = await controlled.verdict('shop', locations, { views });
    assert.equal(shop.verdict, 'probe-host', JSON.stringify(shop));
    assert.deepEqual(shop.probeHostFaults, ['outside']);
    const gateway = await controlled.verdict('gateway', locations, { views });
    assert.equal(gateway.verdict, 'outside-path', 'the control check is not excused by its own failure');
  } finally {
    await stopInside();
    await stopOutside();
    await deleteKeysWithPrefix(`${prefix}-control`);
  }
});
