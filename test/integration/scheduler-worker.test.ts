import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { openRunQueue, type RunJobData } from '../../src/scheduler/run-queue.ts';
import { scheduledItems, syncSchedulers } from '../../src/scheduler/sync-schedulers.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startRunWorker } from '../../workers/run-worker.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { startHttpServer, type TestServer } from '../helpers/test-servers.ts';

const prefix = uniquePrefix('sched');
let redis: Redis;
let server: TestServer;
const queues = new Map<string, { runs: Queue<RunJobData> }>();

function configWith(checks: Array<Record<string, unknown>>) {
  return parseConfig(
    { locations: { inside: {}, outside: {} }, checks, redis: { prefix } },
    '/tmp/sched.yaml',
  );
}

async function syncTo(checks: Array<Record<string, unknown>>) {
  return syncSchedulers(scheduledItems(await configWith(checks)), queues);
}

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  server = await startHttpServer((_request, response) => response.end('ok'));
  for (const location of ['inside', 'outside'])
    queues.set(location, { runs: openRunQueue(location, redis, prefix) });
});

after(async () => {
  await Promise.all([...queues.values()].map((byKind) => byKind.runs.close()));
  await server.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
});

test('config sync adds, changes and removes job schedulers, and is idempotent', async () => {
  const url = `${server.url}/`;
  const first = await syncTo([
    { id: 'a', kind: 'http', interval: '30s', http: { url } },
    { id: 'b', kind: 'http', interval: '1m', locations: ['outside'], http: { url } },
  ]);
  assert.deepEqual(first.added.sort(), ['a@inside', 'a@outside', 'b@outside']);
  const again = await syncTo([
    { id: 'a', kind: 'http', interval: '30s', http: { url } },
    { id: 'b', kind: 'http', interval: '1m', locations: ['outside'], http: { url } },
  ]);
  assert.deepEqual(again.added, []);
  assert.deepEqual(again.unchanged.sort(), ['a@inside', 'a@outside', 'b@outside']);
  const changed = await syncTo([{ id: 'a', kind: 'http', interval: '45s', http: { url } }]);
  assert.deepEqual(changed.changed.sort(), ['a@inside', 'a@outside']);
  assert.deepEqual(changed.removed, ['b@outside']);
  const outside = await queues.get('outside')!.runs.getJobSchedulers(0, -1);
  assert.deepEqual(
    outside.map((scheduler) => [scheduler.key, scheduler.every]),
    [['a', 45_000]],
  );
  const none = await syncTo([]);
  assert.deepEqual(none.removed.sort(), ['a@inside', 'a@outside']);
});

test('a scheduled check is run by the location worker and stored once per job', async () => {
  const config = await configWith([
    { id: 'tick', kind: 'http', interval: '1s', locations: ['inside'], http: { url: `${server.url}/` } },
  ]);
  const recorder = new ResultsRecorder(redis, config);
  const store = recorder.runs;
  const seen: RunResult[] = [];
  const workerConnection = createRedisConnection(SHARED_REDIS_URL);
  const twoRuns = new Promise<void>((resolve) => {
    const worker = startRunWorker({
      config,
      location: 'inside',
      connection: workerConnection,
      recorder,
      logger: createLogger('test', 'silent'),
      onResult: (result) => {
        seen.push(result);
        if (seen.length === 2) {
          void syncSchedulers([], queues)
            .then(() => worker.close())
            .then(() => resolve());
        }
      },
    });
  });
  await syncSchedulers(scheduledItems(config), queues);
  await twoRuns;
  workerConnection.disconnect();
  assert.equal(seen[0].status, 'pass');
  assert.equal(seen[0].location, 'inside');
  assert.ok(
    seen[0].scheduledAt !== undefined && seen[0].startedAt - seen[0].scheduledAt < 1000,
    'schedule lag under 1 s',
  );
  assert.notEqual(seen[0].runId, seen[1].runId);
  const stored = await store.listRuns('tick', { location: 'inside' });
  assert.ok(stored.length >= 2);
  assert.equal(new Set(stored.map((run) => run.runId)).size, stored.length, 'no run stored twice');
});
