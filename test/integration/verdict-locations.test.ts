import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { VerdictName } from '../../src/results/verdict.ts';
import { createLogger } from '../../src/util/logger.ts';
import { type RunningStack, startStack } from '../../workers/start-stack.ts';
import { startWorkerInNamespace } from '../helpers/namespace-worker.ts';
import { createTestNamespace } from '../helpers/network-namespace.ts';
import { startTestRedisServer } from '../helpers/test-redis-server.ts';

/**
 * Two locations, two processes: the inside worker on this host, the outside worker in a
 * network namespace the test creates. Dropping the outside worker's packets to the shop
 * must read as "outside path"; breaking the shop as "service".
 */
test('verdict from two locations: a cut outside path, then a broken service', async (t) => {
  const namespace = createTestNamespace();
  if (typeof namespace === 'string') {
    t.skip(namespace);
    console.log(`# skipped: ${namespace}`);
    return;
  }
  const cleanups: Array<() => Promise<void> | void> = [() => namespace.remove()];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  // Redis and the shop listen on the host's end of the veth pair, reachable from both sides.
  const redisServer = await startTestRedisServer({ host: namespace.hostAddress });
  cleanups.push(() => redisServer.stop());
  const redisUrl = redisServer.url;
  const shop: DemoShop = await startDemoShop({ host: namespace.hostAddress });
  cleanups.push(() => shop.close());

  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-verdict-'));
  const configFile = join(dir, 'pathwatch.config.yaml');
  writeFileSync(
    configFile,
    [
      'locations:',
      '  inside: {}',
      '  outside: {}',
      'defaults: { interval: 1s, timeout: 800ms, retries: 0 }',
      'checks:',
      `  - { id: shop-health, kind: http, http: { url: "http://${namespace.hostAddress}:${shop.port}/health" } }`,
      'redis: { prefix: pwverdict }',
      '',
    ].join('\n'),
  );
  const config = await loadConfig(configFile);
  const redis = redisServer.connection;
  const recorder = new ResultsRecorder(redis, config);

  const inside: RunningStack = await startStack({
    config,
    logger: createLogger('inside', 'silent'),
    roles: { api: false, scheduler: true, workerLocations: ['inside'] },
    redisUrl,
  });
  cleanups.push(() => inside.stop());
  const outside = startWorkerInNamespace(namespace, { location: 'outside', configFile, redisUrl: redisUrl });
  cleanups.push(() => outside.stop());

  const waitForVerdict = async (wanted: VerdictName, seconds: number) => {
    let last = '';
    for (let attempt = 0; attempt < seconds * 4; attempt++) {
      const verdict = await recorder.verdict('shop-health', ['inside', 'outside']);
      last = JSON.stringify(verdict);
      if (verdict.verdict === wanted) return verdict;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.fail(`verdict never became ${wanted}; last: ${last}`);
  };

  await waitForVerdict('ok', 30);
  namespace.exec([
    'iptables',
    '-A',
    'OUTPUT',
    '-p',
    'tcp',
    '-d',
    namespace.hostAddress,
    '--dport',
    String(shop.port),
    '-j',
    'DROP',
  ]);
  const cut = await waitForVerdict('outside-path', 20);
  assert.deepEqual(cut.down, ['outside']);
  const outsideRun = (await recorder.runs.listRuns('shop-health', { location: 'outside', limit: 1 }))[0];
  assert.equal(outsideRun.error?.class, 'connect_timeout', JSON.stringify(outsideRun.error));

  namespace.exec([
    'iptables',
    '-D',
    'OUTPUT',
    '-p',
    'tcp',
    '-d',
    namespace.hostAddress,
    '--dport',
    String(shop.port),
    '-j',
    'DROP',
  ]);
  shop.faults.status500 = true;
  const broken = await waitForVerdict('service', 20);
  assert.deepEqual(broken.down.sort(), ['inside', 'outside']);
  const incident = (await recorder.incidents.list('shop-health'))[0];
  assert.ok(incident.locations.includes('outside'));
});
