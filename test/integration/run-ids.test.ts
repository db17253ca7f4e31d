import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Redis } from 'ioredis';
import { assertValidKey } from '../../src/artifacts/artifact-store.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { runCheck } from '../../src/checks/run-check.ts';
import { type LoadedConfig, parseConfig } from '../../src/config/load-config.ts';
import { startPrivateRedisServer } from '../../src/redis/private-redis-server.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { openRunQueue, runQueueName } from '../../src/scheduler/run-queue.ts';
import { createLogger } from '../../src/util/logger.ts';
import { type RunWorkerOptions, runIdForJob, startRunWorker } from '../../workers/run-worker.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

const logger = createLogger('test', process.env.H1_DEBUG ? 'debug' : 'silent');

async function configFor(prefix: string, url: string): Promise<LoadedConfig> {
  return parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'pay', kind: 'http', timeout: '2s', retries: 0, http: { url } }],
      redis: { prefix },
      runsPerSeries: 2000,
    },
    '/tmp/run-ids.yaml',
  );
}

async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/** A real run worker for location "inside" on its own connection to `url`. */
function startWorker(
  url: string,
  config: LoadedConfig,
  recorder: ResultsRecorder,
  extra: Partial<RunWorkerOptions> = {},
) {
  const connection = createRedisConnection(url);
  const worker = startRunWorker({
    config,
    location: 'inside',
    connection,
    recorder,
    logger,
    concurrency: 50,
    ...extra,
  });
  return async () => {
    await worker.close();
    connection.disconnect();
  };
}

/**
 * Runs `total` run-now jobs through a real run worker and waits until each job finished
 * (completed or failed).
 */
async function runJobs(
  url: string,
  redis: Redis,
  config: LoadedConfig,
  total: number,
  extra: Partial<RunWorkerOptions> = {},
): Promise<{ recorder: ResultsRecorder; failed: number }> {
  const recorder = new ResultsRecorder(redis, config);
  const queue = openRunQueue('inside', redis, config.settings.redis.prefix);
  const stop = startWorker(url, config, recorder, extra);
  try {
    await queue.addBulk(
      Array.from({ length: total }, () => ({
        name: 'run-now',
        data: { checkId: 'pay', location: 'inside', requestedAt: Date.now() },
      })),
    );
    await waitFor(async () => {
      const counts = await queue.getJobCounts('completed', 'failed');
      return (counts.completed ?? 0) + (counts.failed ?? 0) >= total;
    }, `${total} jobs finished`);
    return { recorder, failed: await queue.getFailedCount() };
  } finally {
    await stop();
    await queue.close();
  }
}

test('run ids are valid artifact keys that never start with "-" or "_", for 10,000+ jobs', () => {
  const ids = new Set<string>();
  const jobs = [
    ...Array.from({ length: 10_000 }, (_, index) => String(index + 1)),
    ...Array.from({ length: 2_000 }, (_, index) => `repeat:checkout:${1_780_000_000_000 + index * 60_000}`),
  ];
  for (const [index, id] of jobs.entries()) {
    for (const queue of ['runs-inside', 'journeys-outside']) {
      const runId = runIdForJob(queue, { id, timestamp: 1_780_000_000_000 + index, data: {} });
      assert.match(runId, /^[0-9a-z]{24}$/, `run id of job ${id}`);
      assertValidKey(`runs/${runId}/failure.png`);
      assertValidKey(`runs/${runId}-2/trace.zip`); // a confirmation retry
      ids.add(runId);
    }
  }
  assert.equal(ids.size, jobs.length * 2, 'no two jobs share a run id');
});

test('the same job id in two fresh Redis instances gets different run ids; a redone job keeps its id', async (t) => {
  const server = await startHttpServer((_request, response) => response.end('ok'));
  const dirs = [
    mkdtempSync(join(tmpdir(), 'pathwatch-ids-a-')),
    mkdtempSync(join(tmpdir(), 'pathwatch-ids-b-')),
  ];
  const servers = await Promise.all(dirs.map((dir) => startPrivateRedisServer(dir)));
  const connections = servers.map((redisServer) => createRedisConnection(redisServer.url));
  // Hooks run in the order they are added: what opened last is closed first.
  const cleanups: Array<() => Promise<unknown>> = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    for (const connection of connections) connection.disconnect();
    await Promise.all(servers.map((redisServer) => redisServer.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await server.close();
  });
  const config = await configFor('pwids', `${server.url}/`);
  const stored: RunResult[] = [];
  for (const [index, connection] of connections.entries()) {
    const { recorder, failed } = await runJobs(servers[index].url, connection, config, 1);
    assert.equal(failed, 0);
    const runs = await recorder.runs.listRuns('pay');
    assert.equal(runs.length, 1);
    stored.push(runs[0]);
  }
  const queue = openRunQueue('inside', connections[0], 'pwids');
  cleanups.push(() => queue.close());
  const job = await queue.getJob('1');
  assert.ok(job, 'both installs numbered their first job "1"');
  assert.notEqual(stored[0].runId, stored[1].runId, 'run ids differ across installs');

  // Redone: BullMQ hands the finished job out again; it is stored under the same id, once.
  assert.ok(job.data.runNonce, 'the nonce is kept in the job data');
  const recorder = new ResultsRecorder(connections[0], config);
  await job.retry('completed');
  const stop = startWorker(servers[0].url, config, recorder);
  cleanups.push(stop);
  await waitFor(
    async () =>
      (await queue.getJobState('1')) === 'completed' &&
      (await recorder.runs.getRun(stored[0].runId))?.startedAt !== stored[0].startedAt,
    'the job was redone',
  );
  const runs = await recorder.runs.listRuns('pay');
  assert.equal(runs.length, 1, 'the redone job is stored once');
  assert.equal(runs[0].runId, stored[0].runId, 'under the same run id');
  assert.equal(runs[0].runId, runIdForJob(runQueueName('inside'), (await queue.getJob('1'))!));
});

test('1,000 runs with artifacts through the worker path: 1,000 records, 1,000 artifact dirs, nothing overwritten', async (t) => {
  const prefix = uniquePrefix('runids');
  const server = await startHttpServer((_request, response) => {
    response.statusCode = 502; // every run fails, and a failure keeps evidence
    response.end('bad gateway');
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'pathwatch-artifacts-'));
  const redis = createRedisConnection(SHARED_REDIS_URL, { autoPipelining: true });
  t.after(async () => {
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const config = await configFor(prefix, `${server.url}/`);
  const artifacts = new FilesystemArtifactStore(join(dataDir, 'artifacts'));
  const total = 1000;
  const started = Date.now();
  const { recorder, failed } = await runJobs(SHARED_REDIS_URL, redis, config, total, {
    artifacts,
    // The run path stores each failed run's evidence under its run id, as journeys do.
    runAttempt: async (check, options) => {
      const result = await runCheck(check, options);
      const stored = await artifacts.put(
        `runs/${result.runId}/response.txt`,
        Buffer.from(`${result.runId} ${result.status} ${result.error?.message ?? ''}`),
        'text/plain',
      );
      return { ...result, artifacts: [{ kind: 'log', key: stored.key, bytes: stored.bytes }] };
    },
  });
  const elapsed = Date.now() - started;
  assert.equal(failed, 0, 'no job failed');
  const runs = await recorder.runs.listRuns('pay', { location: 'inside', limit: 2000 });
  assert.equal(runs.length, total, 'every run stored');
  assert.equal(new Set(runs.map((run) => run.runId)).size, total, 'each under its own id');
  const dirs = readdirSync(join(dataDir, 'artifacts', 'runs'));
  assert.equal(dirs.length, total, 'one artifact dir per run');
  for (const run of runs) {
    assert.equal(run.status, 'fail');
    assert.deepEqual(
      run.artifacts?.map((artifact) => artifact.key),
      [`runs/${run.runId}/response.txt`],
    );
    const text = readFileSync(join(dataDir, 'artifacts', 'runs', run.runId, 'response.txt'), 'utf8');
    assert.ok(text.startsWith(`${run.runId} fail`), `runs/${run.runId}/ holds its own run's evidence`);
  }
  t.diagnostic(`${total} runs with artifacts stored in ${elapsed} ms`);
});

test('an artifact write that fails still stores the run, with the error and the evidence already written', async (t) => {
  const prefix = uniquePrefix('runids-put');
  const server = await startHttpServer((_request, response) => response.end('ok'));
  const dataDir = mkdtempSync(join(tmpdir(), 'pathwatch-artifacts-'));
  // A file where the store's root should be a directory: every put fails (ENOTDIR).
  writeFileSync(join(dataDir, 'blocked'), '');
  const redis = createRedisConnection(SHARED_REDIS_URL);
  t.after(async () => {
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const config = await configFor(prefix, `${server.url}/`);
  const good = new FilesystemArtifactStore(join(dataDir, 'artifacts'));
  const blocked = new FilesystemArtifactStore(join(dataDir, 'blocked'));
  const { recorder, failed } = await runJobs(SHARED_REDIS_URL, redis, config, 3, {
    artifacts: good,
    runAttempt: async (check, options) => {
      const result = await runCheck(check, options);
      await good.put(`runs/${result.runId}/first.txt`, Buffer.from('kept'), 'text/plain');
      await blocked.put(`runs/${result.runId}/second.txt`, Buffer.from('lost'), 'text/plain');
      return result;
    },
  });
  assert.equal(failed, 0, 'no job failed');
  const runs = await recorder.runs.listRuns('pay');
  assert.equal(runs.length, 3, 'every run stored');
  for (const run of runs) {
    assert.equal(run.status, 'error');
    assert.equal(run.error?.class, 'internal');
    assert.match(run.error?.message ?? '', /crashed: .*ENOTDIR/);
    assert.deepEqual(
      run.artifacts?.map((artifact) => artifact.key),
      [`runs/${run.runId}/first.txt`],
    );
  }
});
