import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult, RunStatus } from '../../src/results/run-result.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Locations fire at different offsets within an interval. When a fault starts, one
 * location's run of a slot is in before the others': the verdict and the incident must wait
 * for the rest of that slot (at most one interval) instead of passing through a wrong verdict.
 */

const prefix = uniquePrefix('vslot');
const INTERVAL = 60_000;
const LOCATIONS = ['inside', 'outside'];
/** Where in the interval each location fires (as the scheduler's spread offsets do). */
const OFFSET: Record<string, number> = { inside: 7_000, outside: 41_000 };
let redis: Redis;
let recorder: ResultsRecorder;
const stops: Array<() => Promise<void>> = [];

function run(checkId: string, slot: number, location: string, status: RunStatus): RunResult {
  const scheduledAt = slot * INTERVAL + OFFSET[location];
  return {
    runId: `${checkId}-${location}-${slot}`,
    checkId,
    kind: 'tcp',
    location,
    scheduledAt,
    startedAt: Date.now(),
    finishedAt: Date.now() + 5,
    attempt: 1,
    status,
    phases: { total: 5 },
    peers: [],
    intervalMs: INTERVAL,
    ...(status === 'fail' ? { error: { class: 'refused' as const, message: 'connect refused' } } : {}),
  };
}

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: ['shop', 'api', 'mail'].map((id) => ({
        id,
        kind: 'tcp',
        interval: '60s',
        tcp: { host: '127.0.0.1', port: 1 },
      })),
      redis: { prefix },
    },
    '/tmp/verdict-slots.yaml',
  );
  recorder = new ResultsRecorder(redis, config);
  for (const location of LOCATIONS) stops.push(recorder.workers.start(location));
});

after(async () => {
  for (const stop of stops) await stop();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
});

/** Records a counted run and returns the verdict and the open incident's verdict right after. */
async function record(result: RunResult) {
  await recorder.record(result, {
    counted: true,
    policy: { downAfter: 1, upAfter: 1 },
    locations: LOCATIONS,
  });
  const verdict = await recorder.verdict(result.checkId, LOCATIONS);
  const [incident] = await recorder.incidents.list(result.checkId);
  return { verdict, incident };
}

test('a service fault: the first verdict of the slot is already `service`, and the incident is set once', async () => {
  await record(run('shop', 1, 'inside', 'pass'));
  await record(run('shop', 1, 'outside', 'pass'));
  const first = await record(run('shop', 2, 'inside', 'fail'));
  assert.equal(first.verdict.verdict, 'ok', 'inside alone in slot 2 is not judged yet (not inside-path)');
  assert.deepEqual(first.verdict.awaiting, ['outside']);
  assert.equal(first.incident.verdict, undefined);
  assert.equal(first.incident.verdictPending, true);
  const second = await record(run('shop', 2, 'outside', 'fail'));
  assert.equal(second.verdict.verdict, 'service');
  assert.deepEqual(second.verdict.awaiting, []);
  assert.equal(second.incident.verdict, 'service');
  assert.equal(second.incident.verdictPending, undefined);
});

test('a path fault: the slot completes with the other location passing, and the incident gets inside-path', async () => {
  await record(run('api', 1, 'inside', 'pass'));
  await record(run('api', 1, 'outside', 'pass'));
  const first = await record(run('api', 2, 'inside', 'fail'));
  assert.equal(first.verdict.verdict, 'ok');
  const second = await record(run('api', 2, 'outside', 'pass'));
  assert.equal(second.verdict.verdict, 'inside-path');
  assert.equal(second.incident.verdict, 'inside-path', 'settled by the run that completed the slot');
});

test('a location that stays behind is waited for one interval at most', async () => {
  await record(run('mail', 1, 'inside', 'pass'));
  await record(run('mail', 1, 'outside', 'pass'));
  const first = await record(run('mail', 2, 'inside', 'fail'));
  assert.equal(first.verdict.verdict, 'ok');
  const later = await recorder.verdict('mail', LOCATIONS, { now: Date.now() + INTERVAL + 1 });
  assert.equal(later.verdict, 'inside-path');
  assert.deepEqual(later.awaiting, []);
});

test('a journey is judged by slot like a check: its first verdict of a fault is already `service`', async () => {
  // Journeys are not in config.checks: the slot and its interval come with the results.
  const journeyRun = (slot: number, location: string, status: RunStatus): RunResult => ({
    ...run('checkout', slot, location, status),
    kind: 'journey',
    ...(status === 'fail' ? { error: { class: 'timeout' as const, message: 'step 5 "pay" timed out' } } : {}),
  });
  await record(journeyRun(1, 'inside', 'pass'));
  await record(journeyRun(1, 'outside', 'pass'));
  const first = await record(journeyRun(2, 'inside', 'fail'));
  assert.equal(first.verdict.verdict, 'ok', 'inside alone in slot 2 is not judged yet (not inside-path)');
  assert.deepEqual(first.verdict.awaiting, ['outside']);
  assert.equal(first.incident.verdict, undefined);
  assert.equal(first.incident.verdictPending, true);
  const second = await record(journeyRun(2, 'outside', 'fail'));
  assert.equal(second.verdict.verdict, 'service');
  assert.equal(second.incident.verdict, 'service');
  assert.equal(second.incident.verdictPending, undefined);
});
