import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { openQueue, queueName } from '../../src/scheduler/run-queue.ts';
import { createLogger } from '../../src/util/logger.ts';
import { runIdForJob } from '../../workers/run-worker.ts';
import { startStack } from '../../workers/start-stack.ts';
import { descendants } from '../helpers/child-processes.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { CLI } from '../helpers/run-cli.ts';
import { createTempProject } from '../helpers/temp-project.ts';
import { startTestRedisServer } from '../helpers/test-redis-server.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

const repo = new URL('../..', import.meta.url).pathname;

test('kill -9 of a worker during a journey: another worker redoes it within the stalled interval, stored once', async (t) => {
  const redis = await startTestRedisServer();
  const shop: DemoShop = await startDemoShop();
  const dir = createTempProject({
    'pathwatch.config.yaml': [
      'locations:',
      '  inside: {}',
      'defaults: { retries: 0 }',
      'journeys: journeys/*.journey.ts',
      'workers: { stalledAfter: 2s }',
      'redis: { prefix: pwkill }',
      'dataDir: data',
      '',
    ].join('\n'),
    'journeys/slow-checkout.journey.ts': readFileSync(
      join(repo, 'test/fixtures/journeys/slow-checkout.journey.ts'),
      'utf8',
    ),
  });
  const env = {
    ...process.env,
    REDIS_URL: redis.url,
    DEMO_SHOP_URL: shop.url,
    PATHWATCH_EXTRA_BROWSER_ARGS: LOOPBACK_ONLY_CHROMIUM_ARGS.join('\n'),
    PATHWATCH_LOG_LEVEL: 'silent',
  };
  const startWorker = () =>
    spawn(
      process.execPath,
      [CLI, 'worker', '--location', 'inside', '--config', join(dir, 'pathwatch.config.yaml')],
      {
        cwd: dir,
        env,
        stdio: 'ignore',
      },
    );
  const workers: ChildProcess[] = [];
  const queue = openQueue('journeys', 'inside', redis.connection, 'pwkill');
  t.after(async () => {
    for (const worker of workers)
      if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await queue.close();
    await redis.stop();
    await shop.close();
    // Killed outright, the workers could not remove their temp dirs (profile, raw traces).
    // Their Chromium may still be writing its profile as it shuts down: retry the removal.
    // (The second worker's pool removes them too: that is the hygiene under test elsewhere.)
    const killedPrefixes = new Set(workers.map((worker) => `pathwatch-${worker.pid}.`));
    for (const name of readdirSync(tmpdir()))
      if ([...killedPrefixes].some((prefix) => name.startsWith(prefix)))
        try {
          rmSync(join(tmpdir(), name), { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
        } catch {
          // The second worker's pool sweeps the same orphan at the same time: either removal will do.
        }
  });

  const first = startWorker();
  workers.push(first);
  const job = await queue.add('run-now', {
    checkId: 'slow-checkout',
    location: 'inside',
    requestedAt: Date.now(),
  });
  let browserPids: number[] = [];
  for (let attempt = 0; attempt < 100; attempt++) {
    browserPids = descendants(first.pid)
      .filter((info) => /chrom/i.test(info.name))
      .map((info) => info.pid);
    if ((await queue.getActiveCount()) > 0 && browserPids.length > 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.ok(browserPids.length > 0, 'the first worker took the journey and launched Chromium');
  await new Promise((resolve) => setTimeout(resolve, 1500)); // into the "think" step
  first.kill('SIGKILL');
  await once(first, 'exit');
  for (let attempt = 0; attempt < 50; attempt++) {
    browserPids = browserPids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    if (browserPids.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual(browserPids, [], 'Chromium did not outlive its killed worker');

  workers.push(startWorker());
  const config = await loadConfig(join(dir, 'pathwatch.config.yaml'));
  const recorder = new ResultsRecorder(redis.connection, config);
  let runs: Awaited<ReturnType<typeof recorder.runs.listRuns>> = [];
  for (let attempt = 0; attempt < 120 && runs.length === 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    runs = await recorder.runs.listRuns('slow-checkout');
  }
  await new Promise((resolve) => setTimeout(resolve, 1000)); // a duplicate would show up by now
  runs = await recorder.runs.listRuns('slow-checkout');
  assert.equal(runs.length, 1, JSON.stringify(runs.map((run) => [run.runId, run.status])));
  assert.equal(runs[0].status, 'pass', runs[0].error?.message);
  const redone = await queue.getJob(job.id ?? '');
  assert.ok(redone?.data.runNonce, 'the first worker kept the run nonce in the job');
  assert.equal(runs[0].runId, runIdForJob(queueName('journeys', 'inside'), redone));
  const state = await recorder.states.get('slow-checkout', 'inside');
  assert.equal(state.consecutivePasses, 1, 'counted once');
});

test('a Redis restart in the middle of a load loses no result and duplicates none', async (t) => {
  const redis = await startTestRedisServer();
  const server = await startHttpServer((_request, response) => response.end('ok'));
  const dir = createTempProject({
    'pathwatch.config.yaml': [
      'locations:',
      '  inside: {}',
      `checks: [{ id: quick, kind: http, http: { url: "${server.url}/" } }]`,
      'redis: { prefix: pwrestart }',
      'runsPerSeries: 1000',
      // Jobs active while Redis was down lose their lock; they are redone (same run id) once it lapses.
      'workers: { stalledAfter: 2s }',
      '',
    ].join('\n'),
  });
  const config = await loadConfig(join(dir, 'pathwatch.config.yaml'));
  const stack = await startStack({
    config,
    logger: createLogger('test', 'silent'),
    roles: { api: false, scheduler: false, workerLocations: ['inside'] },
    redisUrl: redis.url,
  });
  const queue = openQueue('runs', 'inside', redis.connection, 'pwrestart');
  t.after(async () => {
    await queue.close();
    await stack.stop();
    await redis.stop();
    await server.close();
  });
  const total = 300;
  await queue.addBulk(
    Array.from({ length: total }, () => ({
      name: 'run-now',
      data: { checkId: 'quick', location: 'inside', requestedAt: Date.now() },
    })),
  );
  const stored = () => redis.connection.zcard('pwrestart:runs:quick:inside');
  for (let attempt = 0; attempt < 200 && (await stored()) < total / 3; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const before = await stored();
  assert.ok(before < total, `the restart happens mid-load (${before} of ${total} stored)`);
  await redis.restart();
  let count = 0;
  for (let attempt = 0; attempt < 240; attempt++) {
    count = await stored();
    if (count >= total && (await queue.getCompletedCount()) >= total) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.equal(count, total, 'every run stored exactly once');
  assert.equal(await queue.getCompletedCount(), total);
  assert.equal(await queue.getFailedCount(), 0);
});
