import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { openQueue } from '../../src/scheduler/run-queue.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startStack } from '../../workers/start-stack.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { createTempProject } from '../helpers/temp-project.ts';
import { startSilentServer } from '../helpers/test-servers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a stop does not wait for a capture slice's wait for the other locations: the slice is cut at once and stored", async (t) => {
  try {
    await checkCapturePermission();
  } catch (error) {
    t.skip((error as Error).message);
    return;
  }
  const silent = await startSilentServer();
  const prefix = uniquePrefix('cancel-capture');
  const dir = createTempProject({
    'pathwatch.config.yaml': [
      'locations: { inside: {}, outside: {} }',
      'defaults: { retries: 0 }',
      `checks: [{ id: hangs, kind: http, interval: 1m, timeout: 500ms, http: { url: "${silent.url}/" } }]`,
      `capture: { interface: lo, filter: "tcp port ${silent.port}", ringSize: 8MiB, fileSize: 2MiB, before: 1s, after: 1s }`,
      `redis: { prefix: ${prefix} }`,
      'dataDir: data',
      '',
    ].join('\n'),
  });
  const config = await loadConfig(join(dir, 'pathwatch.config.yaml'));
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const queue = openQueue('runs', 'inside', redis, prefix);
  t.after(async () => {
    await queue.close();
    redis.disconnect();
    await silent.close();
    await deleteKeysWithPrefix(prefix);
  });
  const recorder = new ResultsRecorder(redis, config);
  // "outside" ran the check before, so the slice waits (up to 20 s) for its run of this slot,
  // which never comes: only the inside worker runs.
  const earlier = Date.now() - 120_000;
  await recorder.runs.save({
    runId: `${prefix.replace(/[^a-z0-9]/g, '')}outside`.slice(0, 24),
    checkId: 'hangs',
    kind: 'http',
    location: 'outside',
    scheduledAt: earlier,
    intervalMs: 60_000,
    startedAt: earlier,
    finishedAt: earlier + 5,
    attempt: 1,
    status: 'pass',
    phases: { total: 5 },
    peers: [],
  });
  const results: RunResult[] = [];
  const stack = await startStack({
    config,
    logger: createLogger('test', 'silent'),
    roles: { api: false, scheduler: false, workerLocations: ['inside'] },
    redisUrl: SHARED_REDIS_URL,
    onResult: (result) => results.push(result),
  });
  await queue.add('run-now', { checkId: 'hangs', location: 'inside', requestedAt: Date.now() });
  for (let waited = 0; results.length === 0; waited += 50) {
    assert.ok(waited < 15_000, 'the run ends within 15 s');
    await sleep(50);
  }
  assert.equal(results[0].status, 'fail', results[0].error?.message);
  await sleep(1500); // past the slice's window: it is waiting for "outside" now
  const stopping = Date.now();
  await stack.stop();
  const stopMs = Date.now() - stopping;
  assert.ok(stopMs < 6000, `stop took ${stopMs} ms; the slice would wait up to 20 s for "outside"`);
  let stored: RunResult | undefined;
  for (let waited = 0; waited < 3000; waited += 100) {
    stored = await recorder.runs.getRun(results[0].runId);
    if (stored?.artifacts?.some((artifact) => artifact.kind === 'pcap')) break;
    await sleep(100);
  }
  assert.ok(
    stored?.artifacts?.some((artifact) => artifact.kind === 'pcap'),
    `the slice is still stored: ${JSON.stringify(stored?.artifacts)}`,
  );
});
