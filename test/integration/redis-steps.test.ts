import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { runSteps } from '../../src/results/redis-step.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { startTestRedisServer } from '../helpers/test-redis-server.ts';

/** Watches what clients send a server (MONITOR), leaving out what scripts run inside it. */
async function watchCommands(redis: Redis): Promise<{ sent: string[]; stop(): void }> {
  const monitor = await redis.monitor();
  const sent: string[] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua') sent.push(String(args[0]).toLowerCase());
  });
  return { sent, stop: () => monitor.disconnect() };
}

test('steps run in order in one script, each with its own keys and arguments, a nil reply kept in place', async (t) => {
  const prefix = uniquePrefix('steps');
  const redis = createRedisConnection(SHARED_REDIS_URL);
  t.after(async () => {
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });
  const replies = await runSteps(redis, [
    {
      name: 'set-two',
      lua: "redis.call('SET', KEYS[1], ARGV[1]); redis.call('SET', KEYS[2], ARGV[2]); return 2",
      keys: [`${prefix}:a`, `${prefix}:b`],
      args: ['one', 'two'],
    },
    { name: 'missing', lua: "return redis.call('GET', KEYS[1])", keys: [`${prefix}:none`], args: [] },
    {
      name: 'read-back',
      lua: "return {redis.call('GET', KEYS[1]), ARGV[1], #ARGV}",
      keys: [`${prefix}:b`],
      args: ['x', 'y', 'z'],
    },
  ]);
  assert.deepEqual(replies, [2, null, ['two', 'x', 3]]);
  // The same combination again goes by SHA (defined once per connection): same replies.
  assert.deepEqual(
    await runSteps(redis, [
      { name: 'missing', lua: "return redis.call('GET', KEYS[1])", keys: [`${prefix}:a`], args: [] },
    ]),
    ['one'],
  );
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 100 && !condition(); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a finished run (record, slot, counts, state, open incident) is one command to Redis', async (t) => {
  const server = await startTestRedisServer();
  const redis = createRedisConnection(server.url);
  t.after(async () => {
    redis.disconnect();
    await server.stop();
  });
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'shop', kind: 'tcp', tcp: { host: '127.0.0.1', port: 9 } }],
      redis: { prefix: 'steps' },
    },
    '/tmp/steps.yaml',
  );
  const recorder = new ResultsRecorder(redis, config);
  const run = (index: number): RunResult => ({
    runId: `run${index}`,
    checkId: 'shop',
    kind: 'tcp',
    location: 'inside',
    scheduledAt: 60_000 * index,
    startedAt: 60_000 * index + 5,
    finishedAt: 60_000 * index + 9,
    attempt: 1,
    status: 'pass',
    phases: { total: 4 },
    peers: [],
    intervalMs: 60_000,
  });
  const options = { counted: true, policy: { downAfter: 2, upAfter: 1 }, locations: ['inside'] };
  await recorder.record(run(1), { ...options, slot: { at: 60_000, interval: 60_000 } }); // scripts loaded
  const watch = await watchCommands(redis);
  t.after(() => watch.stop());
  const change = await recorder.record(run(2), { ...options, slot: { at: 120_000, interval: 60_000 } });
  assert.equal(change, undefined, 'UP stays UP');
  await redis.ping(); // MONITOR sees commands in order: once this is seen, the run's are too
  await waitUntil(() => watch.sent.includes('ping'));
  assert.deepEqual(watch.sent, ['evalsha', 'ping'], 'one command for the whole run');

  // And everything it wrote is there: the run, its series, its slot, its counts, its state.
  assert.equal((await recorder.runs.getRun('run2'))?.runId, 'run2');
  assert.deepEqual(
    (await recorder.runs.listRuns('shop')).map((stored) => stored.runId),
    ['run2', 'run1'],
  );
  assert.equal(await recorder.missedSlots.cursor('shop', 'inside'), 120_000);
  assert.equal((await recorder.states.get('shop', 'inside')).lastRunId, 'run2');
  const hour = (await recorder.rollups.hourly('shop', 'inside', 1, 120_005))[0];
  assert.equal(hour.count, 2);

  // A retried attempt (not counted) is stored with its slot and nothing else. MONITOR
  // reports the reads above late at times: wait for a marker before starting afresh.
  await redis.echo('reads-done');
  await waitUntil(() => watch.sent.includes('echo'));
  watch.sent.length = 0;
  await recorder.record(
    { ...run(3), status: 'fail' },
    { ...options, counted: false, slot: { at: 180_000, interval: 60_000 } },
  );
  await redis.ping();
  await waitUntil(() => watch.sent.includes('ping'));
  // EVAL the first time this combination of steps runs on the connection, EVALSHA after.
  assert.deepEqual(watch.sent, ['eval', 'ping']);
  assert.equal(
    (await recorder.states.get('shop', 'inside')).lastRunId,
    'run2',
    'an uncounted attempt moves no state',
  );
});

test('a new script joins an auto-pipeline already open in the same tick, and every command in it is answered', async (t) => {
  const server = await startTestRedisServer();
  const prefix = 'pipelined';
  const redis = createRedisConnection(server.url, { autoPipelining: true });
  t.after(async () => {
    redis.disconnect();
    await server.stop();
  });
  await redis.ping();
  // The GET opens this tick's pipeline; the script is new to the connection. With ioredis's
  // defineCommand the script was missing from the open pipeline and the GET failed with
  // "results[i] is not iterable" (the results connection in clean-clone CI).
  const before = redis.get(`${prefix}:none`);
  const step = runSteps(redis, [
    {
      name: `pipelined-${prefix}`,
      lua: "return redis.call('SET', KEYS[1], ARGV[1])",
      keys: [`${prefix}:a`],
      args: ['x'],
    },
  ]);
  const after = redis.get(`${prefix}:a`);
  const [got, replies, read] = await Promise.all([before, step, after]);
  assert.equal(got, null);
  assert.deepEqual(replies, ['OK']);
  assert.equal(read, 'x', 'the script ran before the GET sent after it');
  // A script Redis has lost (as after a restart) is sent again as text.
  await redis.script('FLUSH');
  const again = await runSteps(redis, [
    {
      name: `pipelined-${prefix}`,
      lua: "return redis.call('SET', KEYS[1], ARGV[1])",
      keys: [`${prefix}:a`],
      args: ['y'],
    },
  ]);
  assert.deepEqual(again, ['OK']);
  assert.equal(await redis.get(`${prefix}:a`), 'y');
});
