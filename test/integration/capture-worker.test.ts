import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import type { RunResult } from '../../src/checks/run-result.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { openQueue } from '../../src/scheduler/run-queue.ts';
import { startStack } from '../../src/stack/start-stack.ts';
import { createLogger } from '../../src/util/logger.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { createTempProject } from '../helpers/temp-project.ts';
import { startSilentServer } from '../helpers/test-servers.ts';

/**
 * The whole path of issue 7 on a worker: an HTTP check against a server that accepts and
 * never answers times out; its run gets the capture slice (that flow only) and an analysis
 * saying the server never answered.
 */
test('a run that times out gets the packet-capture slice around it, with a diagnosis', async (t) => {
  try {
    await checkCapturePermission();
  } catch (error) {
    t.skip((error as Error).message);
    console.log(`# skipped: ${(error as Error).message}`);
    return;
  }
  const silent = await startSilentServer();
  const prefix = uniquePrefix('capture');
  const dir = createTempProject({
    'pathwatch.config.yaml': [
      'locations:',
      '  inside: {}',
      'defaults: { retries: 0 }',
      `checks: [{ id: hangs, kind: http, url: "${silent.url}/", timeout: 500ms }]`,
      `capture: { interface: lo, filter: "tcp port ${silent.port}", ringSize: 8MiB, fileSize: 2MiB, before: 1s, after: 1s }`,
      `redis: { prefix: ${prefix} }`,
      'dataDir: data',
      '',
    ].join('\n'),
  });
  const config = await loadConfig(join(dir, 'pathwatch.config.yaml'));
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const stack = await startStack({
    config,
    logger: createLogger('test', 'silent'),
    roles: { api: false, scheduler: false, workerLocations: ['inside'] },
    redisUrl: SHARED_REDIS_URL,
  });
  const queue = openQueue('runs', 'inside', redis, prefix);
  t.after(async () => {
    await queue.close();
    await stack.stop();
    await silent.close();
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });
  await queue.add('run-now', { checkId: 'hangs', location: 'inside', requestedAt: Date.now() });
  const recorder = new ResultsRecorder(redis, config);
  let run: RunResult | undefined;
  for (let attempt = 0; attempt < 80; attempt++) {
    run = (await recorder.runs.listRuns('hangs'))[0];
    if (run?.artifacts?.some((artifact) => artifact.kind === 'pcap')) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.ok(run, 'the run was stored');
  assert.equal(run.error?.class, 'timeout');
  const pcap = run.artifacts?.find((artifact) => artifact.kind === 'pcap');
  assert.ok(pcap, `the run has a capture slice: ${JSON.stringify(run.artifacts)}`);
  const analysis = JSON.parse(
    readFileSync(join(config.dataDir, 'artifacts', `runs/${run.runId}/capture-analysis.json`), 'utf8'),
  ) as { tcpFlows: Array<{ server: { port: number } }>; diagnosis: string };
  assert.deepEqual(
    analysis.tcpFlows.map((flow) => flow.server.port),
    [silent.port],
    'the slice holds that flow and only it',
  );
  assert.match(analysis.diagnosis, /accepted the connection but never answered/);
  assert.match(String((run.details?.capture as { diagnosis?: string })?.diagnosis), /never answered/);
});
