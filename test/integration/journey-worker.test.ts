import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseConfig } from '../../src/config/load-config.ts';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import { loadJourneys } from '../../src/journeys/load-journeys.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultStore } from '../../src/results/result-store.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { openQueue } from '../../src/scheduler/run-queue.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startStack } from '../../workers/start-stack.ts';
import { chromiumProcesses } from '../helpers/child-processes.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

const repo = new URL('../..', import.meta.url).pathname;
const prefix = uniquePrefix('journeys');
let shop: DemoShop;

before(async () => {
  shop = await startDemoShop();
  process.env.DEMO_SHOP_URL = shop.url;
});

after(async () => {
  await shop.close();
  await deleteKeysWithPrefix(prefix);
});

test('a journey job runs on the location worker, is stored with its evidence, and no Chromium outlives the worker', async () => {
  const config = await parseConfig(
    {
      locations: { inside: {} },
      journeys: 'journeys/checkout.journey.ts',
      secretsFile: 'journeys/demo.secrets.yaml',
      redis: { prefix },
      dataDir: mkdtempSync(join(tmpdir(), 'pathwatch-journey-worker-')),
      browser: { trace: 'on' },
    },
    join(repo, 'pathwatch.test.yaml'),
  );
  const { journeys, issues } = await loadJourneys(config);
  assert.deepEqual(issues, []);
  assert.deepEqual(
    journeys.map((journey) => [journey.id, journey.locations]),
    [['checkout', ['inside']]],
  );
  let resolveResult: (result: RunResult) => void = () => {};
  const stored = new Promise<RunResult>((resolve) => {
    resolveResult = resolve;
  });
  const stack = await startStack({
    config,
    journeys,
    logger: createLogger('test', 'silent'),
    roles: { api: false, scheduler: false, workerLocations: ['inside'] },
    redisUrl: SHARED_REDIS_URL,
    extraBrowserArgs: LOOPBACK_ONLY_CHROMIUM_ARGS,
    onResult: resolveResult,
  });
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const queue = openQueue('journeys', 'inside', redis, prefix);
  try {
    await queue.add('journey', { checkId: 'checkout', location: 'inside', requestedAt: Date.now() });
    const result = await stored;
    assert.equal(result.status, 'pass', result.error?.message);
    assert.equal(result.kind, 'journey');
    assert.equal(result.intervalMs, journeys[0].interval, 'its slot is known, to judge it by slot');
    const fromStore = await new ResultStore(redis, { prefix }).getRun(result.runId);
    assert.deepEqual(
      fromStore?.steps?.map((step) => step.name),
      ['open shop', 'log in', 'add to cart', 'checkout', 'pay'],
    );
    assert.deepEqual(fromStore?.artifacts?.map((artifact) => artifact.kind).sort(), ['har', 'trace']);
    assert.ok(chromiumProcesses().length > 0, 'the worker runs a browser');
  } finally {
    await queue.close();
    await stack.stop();
    redis.disconnect();
  }
  assert.deepEqual(chromiumProcesses(), [], 'no Chromium process is left after the worker stops');
});
