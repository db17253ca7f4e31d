import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { unzipSync } from 'fflate';
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
import { runCli } from '../helpers/run-cli.ts';
import { findLeaks } from '../helpers/secret-encodings.ts';

const repo = new URL('../..', import.meta.url).pathname;
const suite = 'test/fixtures/playwright-suite';
const prefix = uniquePrefix('specs');
/** The demo shop's password, given to the suite only as a pathwatch secret. */
const PASSWORD = 'wonderland';
const dataDir = mkdtempSync(join(tmpdir(), 'pathwatch-spec-monitors-'));
let shop: DemoShop;

before(async () => {
  shop = await startDemoShop();
  process.env.DEMO_SHOP_URL = shop.url; // the suite's own config reads it for its baseURL
  process.env.SPEC_TEST_SHOP_PASSWORD = PASSWORD;
});

after(async () => {
  await shop.close();
  await deleteKeysWithPrefix(prefix);
  rmSync(dataDir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

test('an unmodified Playwright Test suite runs on the journey worker: steps, evidence, the failing step, secrets masked', async () => {
  const config = await parseConfig(
    {
      locations: { inside: {} },
      playwright: [
        {
          config: `${suite}/playwright.config.ts`,
          secrets: { SHOP_PASSWORD: '${env:SPEC_TEST_SHOP_PASSWORD}' },
          retries: 0,
          timeout: '60s',
        },
      ],
      redis: { prefix },
      dataDir,
    },
    join(repo, 'pathwatch.test.yaml'),
  );
  const { journeys, issues } = await loadJourneys(config);
  assert.deepEqual(issues, []);
  assert.deepEqual(
    journeys.map((journey) => [journey.id, journey.interval, journey.locations]),
    [
      ['catalog-teapot', 300_000, ['inside']], // id and interval from its annotation
      ['checkout-buys-a-mug', config.settings.defaults.interval, ['inside']], // from file and title
    ],
  );

  const results = new Map<string, RunResult>();
  let allDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const stack = await startStack({
    config,
    journeys,
    logger: createLogger('test', 'silent'),
    roles: { api: false, scheduler: false, workerLocations: ['inside'] },
    redisUrl: SHARED_REDIS_URL,
    extraBrowserArgs: LOOPBACK_ONLY_CHROMIUM_ARGS,
    onResult: (result) => {
      results.set(result.checkId, result);
      if (results.size === 2) allDone();
    },
  });
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const queue = openQueue('journeys', 'inside', redis, prefix);
  try {
    for (const checkId of ['checkout-buys-a-mug', 'catalog-teapot'])
      await queue.add('journey', { checkId, location: 'inside', requestedAt: Date.now() });
    await done;
    const store = new ResultStore(redis, { prefix });

    const passed = await store.getRun(results.get('checkout-buys-a-mug')?.runId ?? '');
    assert.ok(passed);
    assert.equal(passed.status, 'pass', passed.error?.message);
    assert.equal(passed.kind, 'journey');
    assert.deepEqual(
      passed.steps?.map((step) => [step.name, step.status]),
      [
        ['Before Hooks', 'pass'],
        ['log in', 'pass'],
        ['add to cart', 'pass'],
      ],
    );
    // retain-on-failure: a passing run keeps its HAR (from the trace) and its peers, not the trace.
    assert.deepEqual(
      passed.artifacts?.map((artifact) => artifact.kind),
      ['har'],
    );
    const shopPort = Number(new URL(shop.url).port);
    assert.deepEqual(passed.peers, [{ ip: '127.0.0.1', port: shopPort }]);
    const har = JSON.parse(readFileSync(join(dataDir, 'artifacts', passed.artifacts?.[0].key ?? ''), 'utf8'));
    assert.ok(
      har.log.entries.some((entry: { request: { url: string } }) => entry.request.url.endsWith('/products')),
      'the HAR holds the pages the test visited',
    );

    const failed = await store.getRun(results.get('catalog-teapot')?.runId ?? '');
    assert.ok(failed);
    assert.equal(failed.status, 'fail');
    assert.equal(failed.error?.code, 'ASSERTION');
    assert.match(
      failed.error?.message ?? '',
      /^journey "catalog-teapot" step 3 "find the teapot": expect\(locator\)\.toBeVisible\(\) failed; Locator: getByText\('Porcelain teapot'\)/,
    );
    assert.deepEqual(
      failed.steps?.map((step) => [step.name, step.status]),
      [
        ['Before Hooks', 'pass'],
        ['open the home page', 'pass'],
        ['find the teapot', 'fail'],
      ],
    );
    assert.deepEqual(failed.artifacts?.map((artifact) => artifact.kind).sort(), [
      'har',
      'screenshot',
      'trace',
    ]);
    const trace = unzipSync(readFileSync(join(dataDir, 'artifacts', `runs/${failed.runId}/trace.zip`)));
    assert.ok(
      Object.keys(trace).some((name) => name.endsWith('.trace')),
      'a trace Playwright can open',
    );

    // The password appears nowhere: results, HAR, trace entries, screenshots' neighbours.
    const leaks = [
      ...findLeaks(JSON.stringify(passed), 'passed result', { PASSWORD }),
      ...findLeaks(JSON.stringify(failed), 'failed result', { PASSWORD }),
      ...filesUnder(join(dataDir, 'artifacts')).flatMap((file) =>
        file.endsWith('.zip')
          ? Object.entries(unzipSync(readFileSync(file))).flatMap(([name, bytes]) =>
              findLeaks(Buffer.from(bytes), `${file}:${name}`, { PASSWORD }),
            )
          : findLeaks(readFileSync(file), file, { PASSWORD }),
      ),
    ];
    assert.deepEqual(leaks, []);
  } finally {
    await queue.close();
    await stack.stop();
    redis.disconnect();
  }
  assert.deepEqual(chromiumProcesses(), [], 'no Chromium outlives the runs');
});

test('suite problems are named with their path: missing config, failed listing, bad annotation, id clash', async () => {
  const config = await parseConfig(
    {
      locations: { inside: {} },
      playwright: [
        { config: `${suite}/missing.config.ts` },
        { config: `${suite}/bad/broken.config.ts` },
        { config: `${suite}/bad/playwright.config.ts` },
      ],
      redis: { prefix },
      dataDir,
    },
    join(repo, 'pathwatch.test.yaml'),
  );
  const { journeys, issues } = await loadJourneys(config);
  assert.deepEqual(
    issues.map((issue) => `${issue.path}: ${issue.message}`),
    [
      `playwright[0].config: "${suite}/missing.config.ts" does not exist (looked for ${join(repo, suite, 'missing.config.ts')})`,
      `playwright[1].config: ${join(repo, suite, 'bad/broken.config.ts')}: playwright test --list failed: Error: broken config: BASE_URL is not set`,
      `playwright[2] ${suite}/bad/annotations.spec.ts:3 "often": annotation "pathwatch": interval: expected a duration such as "500ms", "30s", "5m" or "1h", got "often"`,
      `playwright[2] ${suite}/bad/annotations.spec.ts:7 "second": duplicate id "clash", already used by ${suite}/bad/annotations.spec.ts:5 "first" (set one with the annotation { type: 'pathwatch', description: 'id=…' })`,
    ],
  );
  assert.deepEqual(
    journeys.map((journey) => journey.id),
    ['clash'],
    'the good test is kept',
  );
});

test('pathwatch validate names the suite a spec problem comes from', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-spec-validate-'));
  try {
    writeFileSync(
      join(dir, 'pathwatch.config.yaml'),
      'locations: { local: {} }\nplaywright:\n  - config: qa/playwright.config.ts\n',
    );
    const validated = await runCli(['validate', '--config', join(dir, 'pathwatch.config.yaml')]);
    assert.equal(validated.code, 1, validated.stdout + validated.stderr);
    // The header named the journey globs only: "journeys ():" when the config has none.
    assert.match(validated.stderr, /: journeys \(qa\/playwright\.config\.ts\): 1 problem\n/);
    assert.match(
      validated.stderr,
      /^ {2}playwright\[0\]\.config: "qa\/playwright\.config\.ts" does not exist/m,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
