import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../../src/config/load-config.ts';
import { loadJourneys } from '../../src/journeys/load-journeys.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { openQueue } from '../../src/scheduler/run-queue.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startRunWorker } from '../../workers/run-worker.ts';
import { startStack } from '../../workers/start-stack.ts';
import { chromiumProcesses } from '../helpers/child-processes.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

const repo = new URL('../..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Accepts connections and never sends a byte; counts them, so a test knows a run is in flight. */
async function startMuteServer() {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    accepted: () => accepted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(what: string, condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('closing a run worker cancels its http and tcp runs at once (BullMQ\'s signal reaches the probe): stored as error "cancelled by shutdown", not abandoned', async (t) => {
  const prefix = uniquePrefix('cancel-checks');
  const mute = await startMuteServer();
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const workerConnection = createRedisConnection(SHARED_REDIS_URL);
  const queue = openQueue('runs', 'inside', redis, prefix);
  t.after(async () => {
    await queue.close();
    redis.disconnect();
    workerConnection.disconnect();
    await mute.close();
    await deleteKeysWithPrefix(prefix);
  });
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [
        { id: 'http-mute', kind: 'http', http: { url: `http://127.0.0.1:${mute.port}/` }, timeout: '1m' },
        {
          id: 'tcp-mute',
          kind: 'tcp',
          tcp: { host: '127.0.0.1', port: mute.port, banner: '^220 ' },
          timeout: '1m',
        },
      ],
      redis: { prefix },
    },
    '/tmp/cancel-checks.yaml',
  );
  const recorder = new ResultsRecorder(redis, config);
  const results: RunResult[] = [];
  const worker = startRunWorker({
    config,
    location: 'inside',
    connection: workerConnection,
    recorder,
    logger: createLogger('test', 'silent'),
    onResult: (result) => results.push(result),
  });

  // BullMQ's own signal: cancelling one job through the worker ends that run alone, now.
  const cancelled = await queue.add('run-now', {
    checkId: 'http-mute',
    location: 'inside',
    requestedAt: Date.now(),
  });
  await until('the first http run to connect', () => mute.accepted() >= 1);
  const cancelledAt = Date.now();
  assert.ok(worker.cancelJob(cancelled.id ?? '', 'operator request'), 'the job is in flight on this worker');
  await until('the cancelled run to be stored', () => results.length >= 1, 5000);
  assert.ok(Date.now() - cancelledAt < 3000, `ended ${Date.now() - cancelledAt} ms after the cancel`);
  assert.equal(results[0].status, 'error');
  assert.equal(results[0].error?.message, 'cancelled: operator request');
  assert.equal(results.length, 1, 'a cancelled run is not retried');

  // The worker's stop: every run in flight is cancelled at once and stored.
  results.length = 0;
  const connectedBefore = mute.accepted();
  for (const checkId of ['http-mute', 'tcp-mute'])
    await queue.add('run-now', { checkId, location: 'inside', requestedAt: Date.now() });
  await until('both runs to connect', () => mute.accepted() >= connectedBefore + 2);
  await sleep(200); // both are waiting for an answer now
  const closing = Date.now();
  await worker.close();
  const closeMs = Date.now() - closing;
  assert.ok(closeMs < 3000, `close() took ${closeMs} ms; the checks' timeout is 60000 ms`);
  assert.deepEqual(results.map((result) => result.checkId).sort(), ['http-mute', 'tcp-mute']);
  for (const result of results) {
    const stored = await recorder.runs.getRun(result.runId);
    assert.equal(stored?.status, 'error', `${result.checkId} stored as error`);
    assert.equal(stored?.error?.class, 'internal');
    assert.equal(stored?.error?.code, 'CANCELLED');
    assert.equal(stored?.error?.message, 'cancelled by shutdown');
    assert.ok((stored?.phases.total ?? Infinity) < 3000, 'it ran until the stop, not until its timeout');
  }
  const states = await recorder.states.forCheck('http-mute', ['inside']);
  assert.notEqual(states.inside?.state, 'DOWN', 'a cancelled run counts against no target');
});

test('stopping the stack during a 10-minute journey whose page waits forever: stop returns in seconds, Chromium is gone, the run is stored as cancelled', async (t) => {
  const prefix = uniquePrefix('cancel-journey');
  let pageRequests = 0;
  let waiting = false;
  const site = await startHttpServer((request, response) => {
    if (request.url === '/waiting') waiting = true;
    else pageRequests++;
    response.setHeader('content-type', 'text/html');
    response.end('<!doctype html><title>waiting</title><h1>nothing else will come</h1>');
  });
  process.env.WAIT_FOREVER_URL = `${site.url}/`;
  const redis = createRedisConnection(SHARED_REDIS_URL);
  t.after(async () => {
    redis.disconnect();
    await site.close();
    await deleteKeysWithPrefix(prefix);
  });
  const config = await parseConfig(
    {
      locations: { inside: {} },
      journeys: 'test/fixtures/journeys/wait-forever.journey.ts',
      redis: { prefix },
      dataDir: mkdtempSync(join(tmpdir(), 'pathwatch-cancel-journey-')),
    },
    join(repo, 'pathwatch.test.yaml'),
  );
  const { journeys, issues } = await loadJourneys(config);
  assert.deepEqual(issues, []);
  assert.equal(journeys[0].timeout, 600_000);
  const results: RunResult[] = [];
  const stack = await startStack({
    config,
    journeys,
    logger: createLogger('test', 'silent'),
    roles: { api: false, scheduler: false, workerLocations: ['inside'] },
    redisUrl: SHARED_REDIS_URL,
    extraBrowserArgs: LOOPBACK_ONLY_CHROMIUM_ARGS,
    onResult: (result) => results.push(result),
  });
  const queue = openQueue('journeys', 'inside', redis, prefix);
  try {
    await queue.add('run-now', { checkId: 'wait-forever', location: 'inside', requestedAt: Date.now() });
    await until('the journey to open its page', () => pageRequests >= 1, 30_000);
    // The waiting step announces itself (it fetches /waiting) before it waits.
    await until('the journey to reach its waiting step', () => waiting, 30_000);
    assert.ok(chromiumProcesses().length > 0, 'the journey runs in Chromium');
  } finally {
    await queue.close();
  }
  const stopping = Date.now();
  await stack.stop();
  const stopMs = Date.now() - stopping;
  assert.ok(stopMs < 8000, `stop took ${stopMs} ms`);
  assert.deepEqual(chromiumProcesses(), [], 'no Chromium outlives the stop');
  assert.equal(results.length, 1, 'the journey run is stored, once');
  const [result] = results;
  assert.equal(result.status, 'error');
  assert.equal(result.error?.class, 'internal');
  assert.equal(result.error?.code, 'CANCELLED');
  assert.equal(
    result.error?.message,
    'journey "wait-forever" step 2 "wait for what never comes": cancelled by shutdown',
  );
  assert.deepEqual(
    result.steps?.map((step) => [step.name, step.status]),
    [
      ['open', 'pass'],
      ['wait for what never comes', 'fail'],
    ],
  );
  const recorder = new ResultsRecorder(redis, config);
  const stored = await recorder.runs.getRun(result.runId);
  assert.equal(stored?.error?.message, result.error?.message, 'stored, not abandoned');
});
