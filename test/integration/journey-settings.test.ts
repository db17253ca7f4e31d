import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { loadJourneys } from '../../src/journeys/load-journeys.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { openQueue, queueOfKind } from '../../src/scheduler/run-queue.ts';
import { scheduledItems } from '../../src/scheduler/sync-schedulers.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startStack } from '../../workers/start-stack.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { runCli } from '../helpers/run-cli.ts';
import { createTempProject } from '../helpers/temp-project.ts';
import { closedPort } from '../helpers/test-servers.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A journey file failing at once, with `settings` spliced into its definition. */
function failingJourney(id: string, settings: string): string {
  return [
    "import { journey } from 'pathwatch';",
    'export default journey({',
    `  id: '${id}',`,
    `  ${settings}`,
    '  async run({ step }) {',
    "    await step('fail', async () => {",
    "      throw new Error('broken on purpose');",
    '    });',
    '  },',
    '});',
    '',
  ].join('\n');
}

test('a journey with retries: 0 and downAfter: 2 is retried, counted and turned DOWN exactly like a check with the same settings', async (t) => {
  const prefix = uniquePrefix('journey-settings');
  const port = await closedPort();
  const dir = createTempProject({
    'pathwatch.config.yaml': [
      'locations: { inside: {} }',
      // The defaults say otherwise: each item's own settings must win, for both kinds.
      'defaults: { retries: 2, downAfter: 5, retryDelay: 100ms }',
      'journeys: journeys/*.journey.ts',
      `redis: { prefix: ${prefix} }`,
      'dataDir: data',
      'checks:',
      `  - { id: refused, kind: http, http: { url: "http://127.0.0.1:${port}/" }, retries: 0, downAfter: 2 }`,
      '',
    ].join('\n'),
    'journeys/broken.journey.ts': failingJourney('broken', 'retries: 0, downAfter: 2,'),
  });
  const config = await loadConfig(join(dir, 'pathwatch.config.yaml'));
  const { journeys, issues } = await loadJourneys(config);
  assert.deepEqual(issues, []);
  const [check] = config.checks;
  const [journey] = journeys;
  for (const key of [
    'retries',
    'retryDelay',
    'downAfter',
    'upAfter',
    'interval',
    'locations',
    'enabled',
  ] as const)
    assert.deepEqual(journey[key], check[key], `${key} resolved alike`);
  // The scheduler bounds a slot's run by the item's own retries, journeys included.
  const items = scheduledItems(config, journeys);
  assert.equal(items.find((item) => item.id === 'broken')?.maxRunMs, journey.timeout);
  assert.equal(items.find((item) => item.id === 'broken')?.queue, 'journeys');

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
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const queues = {
    runs: openQueue('runs', 'inside', redis, prefix),
    journeys: openQueue('journeys', 'inside', redis, prefix),
  };
  t.after(async () => {
    await stack.stop();
    await Promise.all(Object.values(queues).map((queue) => queue.close()));
    redis.disconnect();
    await deleteKeysWithPrefix(prefix);
  });
  const recorder = new ResultsRecorder(redis, config);
  /** Runs one job of the item and reports what it left: attempts stored, state after. */
  const runJob = async (item: { id: string; kind: string }) => {
    const before = results.filter((result) => result.checkId === item.id).length;
    await queues[queueOfKind(item.kind)].add('run-now', {
      checkId: item.id,
      location: 'inside',
      requestedAt: Date.now(),
    });
    const deadline = Date.now() + 30_000;
    while (results.filter((result) => result.checkId === item.id).length === before) {
      assert.ok(Date.now() < deadline, `a run of ${item.id} within 30 s`);
      await sleep(50);
    }
    await sleep(500); // a retry, if one were (wrongly) made, would be stored by now
    const attempts = results.filter((result) => result.checkId === item.id).length - before;
    const state = (await recorder.states.forCheck(item.id, ['inside'])).inside;
    return {
      attempts,
      status: results.at(-1)?.status,
      state: state?.state,
      failures: state?.consecutiveFailures,
    };
  };
  const seen: Record<string, unknown[]> = {};
  for (const item of [check, journey]) seen[item.id] = [await runJob(item), await runJob(item)];
  assert.deepEqual(seen.broken, seen.refused, 'the journey behaves as the check does');
  assert.deepEqual(seen.refused, [
    { attempts: 1, status: 'fail', state: 'UNKNOWN', failures: 1 },
    { attempts: 1, status: 'fail', state: 'DOWN', failures: 2 },
  ]);
});

test('validate rejects a journey with retries: -1 in one line naming the file, as it would a check', async () => {
  const dir = createTempProject({
    'pathwatch.config.yaml': 'locations: { inside: {} }\njourneys: journeys/*.journey.ts\n',
    'journeys/bad.journey.ts': failingJourney('bad', 'retries: -1,'),
  });
  const result = await runCli(['validate', '--config', join(dir, 'pathwatch.config.yaml')]);
  assert.equal(result.code, 1, result.stdout);
  const lines = result.stderr.trim().split('\n');
  const problems = lines.filter((line) => line.includes('bad.journey.ts'));
  assert.equal(problems.length, 1, result.stderr);
  assert.match(problems[0], /journeys\/bad\.journey\.ts: retries: Too small: expected number to be >=0$/);
  assert.ok(!/\n\s+at /.test(result.stderr), 'no stack trace');
});

test('the journeys glob: ** finds nested files but never under node_modules, and a glob naming nothing is still an error', async () => {
  const dir = createTempProject({
    'pathwatch.config.yaml':
      'locations: { inside: {} }\njourneys: ["**/*.journey.ts", "missing/*.journey.ts"]\n',
    'journeys/team-a/one.journey.ts': failingJourney('one', ''),
    'journeys/two.journey.ts': failingJourney('two', ''),
  });
  // A dependency's journey (node_modules/pathwatch links to this repository, whose
  // journeys/checkout.journey.ts would match `**` too) must not be picked up.
  mkdirSync(join(dir, 'node_modules', 'dep', 'journeys'), { recursive: true });
  writeFileSync(join(dir, 'node_modules', 'dep', 'journeys', 'dep.journey.ts'), failingJourney('dep', ''));
  const config = await loadConfig(join(dir, 'pathwatch.config.yaml'));
  const { journeys, issues } = await loadJourneys(config);
  assert.deepEqual(journeys.map((journey) => journey.id).sort(), ['one', 'two']);
  assert.deepEqual(issues, [
    { path: 'journeys[1]', message: `"missing/*.journey.ts" matches no file under ${dir}` },
  ]);
});
