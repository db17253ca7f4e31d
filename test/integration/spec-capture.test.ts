import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { loadJourneys } from '../../src/journeys/load-journeys.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { openQueue } from '../../src/scheduler/run-queue.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startStack } from '../../workers/start-stack.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { REPO_ROOT } from '../helpers/run-cli.ts';
import { createTempProject } from '../helpers/temp-project.ts';
import { startSilentServer } from '../helpers/test-servers.ts';

async function skipUnlessCapturePermitted(t: TestContext): Promise<boolean> {
  try {
    await checkCapturePermission();
    return false;
  } catch (error) {
    t.skip((error as Error).message);
    console.log(`# skipped: ${(error as Error).message}`);
    return true;
  }
}

test('a Playwright Test spec that times out against a silent server gets the capture slice of that flow, as a journey would', async (t) => {
  if (await skipUnlessCapturePermitted(t)) return;
  const silent = await startSilentServer();
  t.after(() => silent.close());
  const prefix = uniquePrefix('spec-capture');
  const suite = join(REPO_ROOT, 'test/fixtures/playwright-warm-suite/playwright.config.ts');
  const dir = createTempProject({
    'pathwatch.config.yaml': [
      'locations:',
      '  inside: {}',
      'defaults: { retries: 0 }',
      `playwright: [{ config: "${suite}", grep: "opens the page", params: { URL: "${silent.url}/" } }]`,
      `capture: { interface: lo, filter: "tcp port ${silent.port}", ringSize: 8MiB, fileSize: 2MiB, before: 1s, after: 1s }`,
      `redis: { prefix: ${prefix} }`,
      'dataDir: data',
      '',
    ].join('\n'),
  });
  const config = await loadConfig(join(dir, 'pathwatch.config.yaml'));
  const { journeys, issues } = await loadJourneys(config);
  assert.deepEqual(issues, []);
  assert.deepEqual(
    journeys.map((journey) => journey.id),
    ['warm-opens-the-page-its-url-param-names'],
  );
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const stack = await startStack({
    config,
    journeys,
    logger: createLogger('test', 'silent'),
    roles: { api: false, scheduler: false, workerLocations: ['inside'] },
    redisUrl: SHARED_REDIS_URL,
  });
  const queue = openQueue('journeys', 'inside', redis, prefix);
  t.after(async () => {
    await queue.close();
    await stack.stop();
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });
  const checkId = journeys[0].id;
  await queue.add('journey', { checkId, location: 'inside', requestedAt: Date.now() });
  const recorder = new ResultsRecorder(redis, config);
  let run: RunResult | undefined;
  for (let attempt = 0; attempt < 160; attempt++) {
    run = (await recorder.runs.listRuns(checkId))[0];
    if (run?.artifacts?.some((artifact) => artifact.kind === 'pcap')) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.ok(run, 'the run was stored');
  assert.equal(run.status, 'fail', run.error?.message);
  assert.equal(run.error?.class, 'timeout', run.error?.message);
  assert.match(run.error?.message ?? '', /step 2 "open the page": page\.goto: Timeout 1000ms exceeded/);
  assert.ok(
    run.artifacts?.some((artifact) => artifact.kind === 'pcap'),
    `the run has a capture slice: ${JSON.stringify(run.artifacts)}`,
  );
  const analysis = JSON.parse(
    readFileSync(join(config.dataDir, 'artifacts', `runs/${run.runId}/capture-analysis.json`), 'utf8'),
  ) as { tcpFlows: Array<{ server: { port: number } }>; diagnosis: string };
  assert.ok(
    analysis.tcpFlows.some((flow) => flow.server.port === silent.port),
    `the slice holds the flow to the silent server: ${JSON.stringify(analysis.tcpFlows)}`,
  );
  assert.match(analysis.diagnosis, /accepted the connection but never answered/);
});
