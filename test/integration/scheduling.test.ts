import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { openRunQueue } from '../../src/scheduler/run-queue.ts';
import { spreadOffset } from '../../src/scheduler/sync-schedulers.ts';
import { createLogger } from '../../src/util/logger.ts';
import { type RunningStack, startStack } from '../../workers/start-stack.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Observed at the run level: two scheduler processes produce no duplicate runs, a changed
 * interval changes the cadence, a removed check stops running, and a stop cancels the
 * runs in flight (stored as "cancelled by shutdown").
 */
test('two schedulers, a changed interval, a removed check, and a stop that cancels the run in flight', async (t) => {
  const prefix = uniquePrefix('cadence');
  const slowPrefix = `${prefix}-slow`;
  let slowRequests = 0;
  const server = await startHttpServer((request, response) => {
    if (request.url === '/slow') {
      slowRequests++;
      setTimeout(() => response.end('late'), 5000);
    } else response.end('ok');
  });
  const stacks: RunningStack[] = [];
  // The slow part has its own key prefix: a worker whose config lacks a check must not take its job.
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const queue = openRunQueue('inside', redis, slowPrefix);
  t.after(async () => {
    for (const stack of stacks) await stack.stop();
    await queue.close();
    redis.disconnect();
    await server.close();
    await deleteKeysWithPrefix(prefix);
    await deleteKeysWithPrefix(slowPrefix);
  });
  const configWith = (checks: Array<Record<string, unknown>>, keyPrefix = prefix) =>
    parseConfig(
      { locations: { inside: {} }, checks, defaults: { retries: 0 }, redis: { prefix: keyPrefix } },
      '/tmp/cadence.yaml',
    );
  const runs: RunResult[] = [];
  const start = async (
    checks: Array<Record<string, unknown>>,
    roles: { scheduler: boolean; worker: boolean },
    keyPrefix = prefix,
  ) => {
    const stack = await startStack({
      config: await configWith(checks, keyPrefix),
      logger: createLogger('test', 'silent'),
      roles: { api: false, scheduler: roles.scheduler, workerLocations: roles.worker ? ['inside'] : [] },
      redisUrl: SHARED_REDIS_URL,
      onResult: (result) => runs.push(result),
    });
    stacks.push(stack);
    return stack;
  };
  const tick = { id: 'tick', kind: 'http', interval: '1s', http: { url: `${server.url}/` } };

  // Two scheduler processes with the same config, one worker: one run per second, not two.
  await start([tick], { scheduler: true, worker: true });
  await start([tick], { scheduler: true, worker: false });
  runs.length = 0;
  await sleep(4200);
  const perSecond = runs.filter((run) => run.checkId === 'tick').length / 4.2;
  assert.ok(
    perSecond > 0.6 && perSecond < 1.4,
    `one run a second with two schedulers, got ${perSecond.toFixed(2)}/s`,
  );
  const scheduledAt = runs.map((run) => run.scheduledAt);
  assert.equal(new Set(scheduledAt).size, scheduledAt.length, 'no slot ran twice');

  // A changed interval changes the cadence.
  await start([{ ...tick, interval: '2s' }], { scheduler: true, worker: false });
  await sleep(2100); // let the slot already queued at the old cadence pass
  runs.length = 0;
  await sleep(6200);
  const slower = runs.filter((run) => run.checkId === 'tick').length / 6.2;
  assert.ok(
    slower > 0.3 && slower < 0.7,
    `one run every two seconds after the change, got ${slower.toFixed(2)}/s`,
  );

  // A removed check stops running.
  await start([], { scheduler: true, worker: false });
  await sleep(2100);
  runs.length = 0;
  await sleep(3000);
  assert.equal(runs.filter((run) => run.checkId === 'tick').length, 0, 'no runs after the check was removed');

  // Stopping cancels the run in flight at once: it is stored as cancelled, not lost, and
  // the stop does not wait for it (nor for its timeout).
  const slowStack = await start(
    [{ id: 'slow', kind: 'http', interval: '1h', http: { url: `${server.url}/slow` } }],
    { scheduler: false, worker: true },
    slowPrefix,
  );
  await queue.add('run-now', { checkId: 'slow', location: 'inside', requestedAt: Date.now() });
  for (let attempt = 0; attempt < 50 && slowRequests === 0; attempt++) await sleep(100);
  assert.equal(slowRequests, 1, 'the slow run is in flight');
  const stopped = Date.now();
  await slowStack.stop();
  stacks.splice(stacks.indexOf(slowStack), 1);
  assert.ok(
    Date.now() - stopped < 2000,
    `stop took ${Date.now() - stopped} ms, not the 5 s the answer takes`,
  );
  const slow = runs.filter((run) => run.checkId === 'slow');
  assert.deepEqual(
    slow.map((run) => [run.status, run.error?.message]),
    [['error', 'cancelled by shutdown']],
    'the in-flight run was cancelled and stored, once',
  );
});

test('checks with the same interval are spread over it', () => {
  const offsets = Array.from({ length: 1000 }, (_, index) =>
    spreadOffset(`check-${index}`, 'inside', 60_000),
  );
  const perTenSeconds = Array.from(
    { length: 6 },
    (_, slot) => offsets.filter((offset) => Math.floor(offset / 10_000) === slot).length,
  );
  for (const count of perTenSeconds)
    assert.ok(count > 120 && count < 220, `even spread: ${perTenSeconds.join(', ')}`);
  assert.equal(spreadOffset('a', 'inside', 60_000), spreadOffset('a', 'inside', 60_000), 'stable');
});
