import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Queue, Worker } from 'bullmq';
import { buildApp } from '../../src/api/build-app.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import type { SlotGap } from '../../src/results/missed-slot-store.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { type MissedSlotSweep, startMissedSlotSweep } from '../../src/scheduler/missed-slot-sweep.ts';
import { openRunQueue, type RunJobData } from '../../src/scheduler/run-queue.ts';
import { scheduledItems, syncSchedulers } from '../../src/scheduler/sync-schedulers.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startRunWorker } from '../../workers/run-worker.ts';
import { startStack } from '../../workers/start-stack.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { startTestRedisServer } from '../helpers/test-redis-server.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

const INTERVAL = 1000;

async function waitFor(
  condition: () => Promise<boolean> | boolean,
  what: string,
  ms = 15_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting until ${what}`);
}

test('slots with no run while the worker is down are counted in /metrics and listed as gaps in the history', async (t) => {
  const prefix = uniquePrefix('missed');
  const logger = createLogger('test', 'silent');
  const server = await startHttpServer((_request, response) => response.end('ok'));
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [
        {
          id: 'tick',
          kind: 'http',
          interval: '1s',
          timeout: '500ms',
          retries: 0,
          http: { url: `${server.url}/` },
        },
      ],
      redis: { prefix },
      runsPerSeries: 1000,
    },
    '/tmp/missed-slots.yaml',
  );
  const items = scheduledItems(config);
  const queues = new Map<string, { runs: Queue<RunJobData> }>([
    ['inside', { runs: openRunQueue('inside', redis, prefix) }],
  ]);
  const recorder = new ResultsRecorder(redis, config);
  const app = await buildApp({ config, recorder });
  let sweep: MissedSlotSweep | undefined;
  const seen: RunResult[] = [];
  let worker: Worker | undefined;
  const workerConnection = createRedisConnection(SHARED_REDIS_URL);
  const startWorker = () => {
    worker = startRunWorker({
      config,
      location: 'inside',
      connection: workerConnection,
      recorder,
      logger,
      onResult: (result) => seen.push(result),
    });
  };
  t.after(async () => {
    await sweep?.stop();
    await worker?.close();
    await syncSchedulers([], queues);
    await queues.get('inside')!.runs.close();
    await app.close();
    workerConnection.disconnect();
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
    await server.close();
  });
  const missedInMetrics = async () => {
    const metrics = (await app.inject('/metrics')).body;
    const line = metrics
      .split('\n')
      .find((text) => text.startsWith('pathwatch_missed_slots_total{check="tick"'));
    assert.ok(line, `a missed-slots line for tick in:\n${metrics}`);
    assert.equal(line.split('{')[1].split('}')[0], 'check="tick",location="inside"');
    return Number(line.split(' ').at(-1));
  };
  // Slots counted missed whose run came after all: the counter of missed slots never goes down.
  const lateInMetrics = async () =>
    Number(
      /^pathwatch_late_slots_total\{check="tick",location="inside"\} (\d+)$/m.exec(
        (await app.inject('/metrics')).body,
      )?.[1],
    );
  const history = async () => {
    const response = await app.inject('/api/v1/checks/tick/runs?limit=1000');
    assert.equal(response.statusCode, 200, response.body);
    return response.json() as { runs: RunResult[]; gaps: SlotGap[] };
  };

  startWorker();
  await syncSchedulers(items, queues);
  // Started once the sync returned, as the stack does: slots before the scheduler existed
  // had no job to miss (a sweep counting from before the sync found one under load).
  sweep = startMissedSlotSweep({
    items,
    queues,
    store: recorder.missedSlots,
    logger,
    everyMs: 200,
    graceMs: 300,
  });
  await waitFor(() => seen.length >= 4, '4 scheduled runs');
  await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL)); // the sweep has had its chance
  assert.equal(await missedInMetrics(), 0, 'a normal run sequence misses no slot');
  assert.deepEqual((await history()).gaps, [], 'and shows no gap');

  // The worker stops: the series produces no run at all, and the sweep finds the slots.
  await worker!.close();
  const stoppedAt = Date.now();
  await waitFor(async () => (await missedInMetrics()) >= 2, 'the sweep counts the slots passing with no run');
  const whileDown = await history();
  assert.ok(whileDown.gaps.length >= 1, 'the gap is in the history while the worker is down');
  assert.ok(whileDown.gaps[0].start > Math.max(...seen.map((run) => run.scheduledAt ?? 0)));
  assert.ok(whileDown.gaps[0].start >= stoppedAt - INTERVAL);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, stoppedAt + 4 * INTERVAL - Date.now())));

  // Back again: BullMQ runs the pending slot late and skips the rest.
  const before = seen.length;
  startWorker();
  await waitFor(() => seen.length >= before + 3, '3 runs after the restart');
  await new Promise((resolve) => setTimeout(resolve, 2 * INTERVAL));
  await sweep.sweepOnce();

  const { runs, gaps } = await history();
  const missed = (await missedInMetrics()) - (await lateInMetrics());
  const slots = [...new Set(runs.map((run) => run.scheduledAt!))].sort((a, b) => a - b);
  assert.equal(slots.length, runs.length, 'one run per slot');
  const expected = Math.round((slots.at(-1)! - slots[0]) / INTERVAL) + 1;
  assert.ok(missed >= 3, `the 4 s outage missed slots (counted ${missed})`);
  assert.equal(
    gaps.reduce((sum, gap) => sum + gap.count, 0),
    missed,
    'the history lists every slot /metrics counts',
  );
  assert.equal(slots.length + missed, expected, 'every slot is a stored run or a gap, never both or neither');
  t.diagnostic(
    `${slots.length} runs at ${JSON.stringify(slots)}, ${missed} missed slots in ${JSON.stringify(gaps)}`,
  );
  for (const slot of slots) {
    assert.ok(
      !gaps.some((gap) => slot >= gap.start - INTERVAL / 2 && slot <= gap.end + INTERVAL / 2),
      `slot ${slot} has a run and is in no gap`,
    );
  }
  // Run-now jobs are not slots: they leave the count alone.
  const requestedAt = Date.now() - 10 * INTERVAL;
  await queues.get('inside')!.runs.add('run-now', { checkId: 'tick', location: 'inside', requestedAt });
  await waitFor(() => seen.some((run) => run.scheduledAt === requestedAt), 'the run-now run');
  assert.equal((await missedInMetrics()) - (await lateInMetrics()), missed);
});

test('a location whose worker never starts shows its missed slots, counted from when its scheduler was synced', async (t) => {
  const prefix = uniquePrefix('missed-never');
  const logger = createLogger('test', 'silent');
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: [
        {
          id: 'tick',
          kind: 'http',
          interval: '1s',
          timeout: '500ms',
          retries: 0,
          locations: ['outside'],
          http: { url: 'http://127.0.0.1:9/' },
        },
      ],
      redis: { prefix },
    },
    '/tmp/missed-never.yaml',
  );
  const items = scheduledItems(config);
  const queues = new Map<string, { runs: Queue<RunJobData> }>([
    ['outside', { runs: openRunQueue('outside', redis, prefix) }],
  ]);
  const recorder = new ResultsRecorder(redis, config);
  const app = await buildApp({ config, recorder });
  // No worker for "outside" ever runs: the series has no run to measure a gap from.
  const syncedAt = Date.now();
  await syncSchedulers(items, queues);
  const sweep = startMissedSlotSweep({
    items,
    queues,
    store: recorder.missedSlots,
    logger,
    everyMs: 200,
    graceMs: 300,
  });
  t.after(async () => {
    await sweep.stop();
    await syncSchedulers([], queues);
    await queues.get('outside')!.runs.close();
    await app.close();
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });
  const missed = async () =>
    Number(
      /^pathwatch_missed_slots_total\{check="tick",location="outside"\} (\d+)$/m.exec(
        (await app.inject('/metrics')).body,
      )?.[1],
    );
  await waitFor(async () => (await missed()) >= 3, 'slots of a worker that never ran are counted', 10_000);
  const response = await app.inject('/api/v1/checks/tick/runs?location=outside');
  assert.equal(response.statusCode, 200, response.body);
  const { runs, gaps } = response.json() as { runs: RunResult[]; gaps: SlotGap[] };
  assert.equal(runs.length, 0);
  assert.ok(gaps.length >= 1, 'the gap is in the history');
  assert.ok(
    gaps.at(-1)!.start >= syncedAt - INTERVAL,
    `counted from when the scheduler was synced (${gaps.at(-1)!.start} vs ${syncedAt})`,
  );
  assert.equal(
    gaps.reduce((sum, gap) => sum + gap.count, 0),
    await missed(),
  );
});

test('each slot counts once: retries and redos are one slot, a late run takes its slot back out of a gap', async (t) => {
  const prefix = uniquePrefix('missed-store');
  const redis = createRedisConnection(SHARED_REDIS_URL);
  t.after(async () => {
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'c', kind: 'http', http: { url: 'http://127.0.0.1:9/' } }],
      redis: { prefix },
    },
    '/tmp/missed-store.yaml',
  );
  const recorder = new ResultsRecorder(redis, config);
  const store = recorder.missedSlots;
  const app = await buildApp({ config, recorder });
  t.after(() => app.close());
  const metric = async (name: string) =>
    Number(
      new RegExp(`^${name}\\{check="c",location="inside"\\} (\\d+)$`, 'm').exec(
        (await app.inject('/metrics')).body,
      )?.[1],
    );
  const at = (k: number) => 1_800_000_000_000 + k * INTERVAL;
  assert.equal(await store.recordRun('c', 'inside', at(0), INTERVAL), 0, 'the first run starts the series');
  assert.equal(await store.recordRun('c', 'inside', at(1), INTERVAL), 0);
  assert.equal(await store.recordRun('c', 'inside', at(1), INTERVAL), 0, 'a retry of the same slot');
  assert.equal(await store.recordRun('c', 'inside', at(5), INTERVAL), 3, 'slots 2, 3, 4 had no run');
  assert.equal(await store.recordRun('c', 'inside', at(5), INTERVAL), 0, 'a redo of slot 5');
  // A sweep marks 6..9 while their runs are overdue; then slot 7's run arrives late after all.
  assert.equal(
    await store.recordSweep('c', 'inside', at(5), at(9), INTERVAL, [{ start: at(6), end: at(9), count: 4 }]),
    4,
  );
  assert.equal(
    await store.recordSweep('c', 'inside', at(5), at(10), INTERVAL, [
      { start: at(6), end: at(10), count: 5 },
    ]),
    -1,
    'a sweep that read an old cursor changes nothing',
  );
  const missedBefore = await metric('pathwatch_missed_slots_total');
  assert.equal(missedBefore, 7);
  assert.equal(await metric('pathwatch_late_slots_total'), 0);
  await store.recordRun('c', 'inside', at(7), INTERVAL);
  // A counter never goes down (rate() and increase() would read a reset): the late run is
  // counted on its own, and the history no longer lists its slot.
  assert.equal(
    await metric('pathwatch_missed_slots_total'),
    missedBefore,
    'the missed counter never decreases',
  );
  assert.equal(await metric('pathwatch_late_slots_total'), 1, 'the late run is counted');
  assert.deepEqual(await store.totals('c'), { inside: 7 });
  assert.deepEqual(await store.lateTotals('c'), { inside: 1 });
  assert.deepEqual(
    (await store.gaps('c', ['inside'])).map((gap) => [gap.start, gap.end, gap.count]),
    [
      [at(8), at(9), 2],
      [at(6), at(6), 1],
      [at(2), at(4), 3],
    ],
  );
  assert.equal(await store.recordRun('c', 'inside', at(12), INTERVAL), 2, 'slots 10 and 11');
  assert.deepEqual(
    (await store.gaps('c', ['inside'])).map((gap) => [gap.start, gap.end, gap.count])[0],
    [at(8), at(11), 4],
    'a gap that continues the newest one extends it',
  );
  assert.deepEqual(await store.totals('c'), { inside: 9 });
});

test('Redis down for 4 s under a running stack: the slots it missed are counted and listed, none twice', async (t) => {
  const redis = await startTestRedisServer();
  const server = await startHttpServer((_request, response) => response.end('ok'));
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [
        {
          id: 'tick',
          kind: 'http',
          interval: '1s',
          timeout: '500ms',
          retries: 0,
          http: { url: `${server.url}/` },
        },
      ],
      redis: { prefix: 'pwslots' },
      runsPerSeries: 1000,
    },
    '/tmp/missed-slots-redis.yaml',
  );
  const seen: RunResult[] = [];
  const stack = await startStack({
    config,
    logger: createLogger('test', 'silent'),
    roles: { api: true, scheduler: true, workerLocations: ['inside'] },
    redisUrl: redis.url,
    apiPort: 0,
    onResult: (result) => seen.push(result),
  });
  t.after(async () => {
    await stack.stop();
    await redis.stop();
    await server.close();
  });
  const get = async (path: string) => (await fetch(`${stack.apiUrl}${path}`)).text();
  await waitFor(() => seen.length >= 3, '3 scheduled runs');
  await redis.restart({ downForMs: 4 * INTERVAL });
  const before = seen.length;
  await waitFor(() => seen.length >= before + 3, '3 runs after Redis is back', 30_000);

  const metrics = await get('/metrics');
  const missed =
    Number(/^pathwatch_missed_slots_total\{check="tick",location="inside"\} (\d+)$/m.exec(metrics)?.[1]) -
    Number(/^pathwatch_late_slots_total\{check="tick",location="inside"\} (\d+)$/m.exec(metrics)?.[1]);
  const { runs, gaps } = JSON.parse(await get('/api/v1/checks/tick/runs?limit=1000')) as {
    runs: RunResult[];
    gaps: SlotGap[];
  };
  const slots = [...new Set(runs.map((run) => run.scheduledAt!))].sort((a, b) => a - b);
  t.diagnostic(
    `${slots.length} runs at ${JSON.stringify(slots)}, ${missed} missed slots in ${JSON.stringify(gaps)}`,
  );
  assert.equal(slots.length, runs.length, 'one run per slot');
  assert.ok(missed >= 2, `the outage missed slots (counted ${missed})`);
  assert.equal(
    gaps.reduce((sum, gap) => sum + gap.count, 0),
    missed,
  );
  // From the first slot to the last, runs or gaps: a slot missed at the start (a worker slow
  // to take its first job on a loaded machine) lies before the first run.
  const first = Math.min(slots[0], ...gaps.map((gap) => gap.start));
  const last = Math.max(slots.at(-1)!, ...gaps.map((gap) => gap.end));
  assert.equal(
    slots.length + missed,
    Math.round((last - first) / INTERVAL) + 1,
    'every slot is a stored run or a gap',
  );
});
