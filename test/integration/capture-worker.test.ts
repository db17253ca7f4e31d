import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import type { RunResult } from '../../src/checks/run-result.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { openQueue } from '../../src/scheduler/run-queue.ts';
import { startStack } from '../../src/stack/start-stack.ts';
import { createLogger } from '../../src/util/logger.ts';
import { createTestNamespace } from '../helpers/network-namespace.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { createTempProject } from '../helpers/temp-project.ts';
import { startSilentServer } from '../helpers/test-servers.ts';

interface CapturedRun {
  run: RunResult;
  recorder: ResultsRecorder;
  analysis: {
    tcpFlows: Array<{ server: { ip: string; port: number }; synRetransmissions: number }>;
    diagnosis: string;
    verdict: string;
  };
}

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

/**
 * Runs one check on a worker with capture enabled, the way production does, and returns
 * the stored run once its capture slice is attached, with the slice's analysis.
 */
async function runCaptured(t: TestContext, check: string, capture: string): Promise<CapturedRun> {
  const prefix = uniquePrefix('capture');
  const dir = createTempProject({
    'pathwatch.config.yaml': [
      'locations:',
      '  inside: {}',
      'defaults: { retries: 0 }',
      `checks: [${check}]`,
      `capture: { ${capture}, ringSize: 8MiB, fileSize: 2MiB, before: 1s, after: 1s }`,
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
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });
  await queue.add('run-now', { checkId: config.checks[0].id, location: 'inside', requestedAt: Date.now() });
  const recorder = new ResultsRecorder(redis, config);
  let run: RunResult | undefined;
  for (let attempt = 0; attempt < 120; attempt++) {
    run = (await recorder.runs.listRuns(config.checks[0].id))[0];
    if (run?.artifacts?.some((artifact) => artifact.kind === 'pcap')) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.ok(run, 'the run was stored');
  assert.ok(
    run.artifacts?.some((artifact) => artifact.kind === 'pcap'),
    `the run has a capture slice: ${JSON.stringify(run)}`,
  );
  const analysis = JSON.parse(
    readFileSync(join(config.dataDir, 'artifacts', `runs/${run.runId}/capture-analysis.json`), 'utf8'),
  ) as CapturedRun['analysis'];
  return { run, analysis, recorder };
}

test('a check against a server that accepts and never answers times out, and its run gets the slice of that flow only', async (t) => {
  if (await skipUnlessCapturePermitted(t)) return;
  const silent = await startSilentServer();
  t.after(() => silent.close());
  const { run, analysis, recorder } = await runCaptured(
    t,
    `{ id: hangs, kind: http, url: "${silent.url}/", timeout: 500ms }`,
    `interface: lo, filter: "tcp port ${silent.port}"`,
  );
  const [worker] = await recorder.workers.describe('inside');
  const health = (worker?.status as { capture?: { capturing: boolean; running: boolean; dropped: number } })
    ?.capture;
  assert.equal(health?.capturing, true, `the worker publishes its ring's health: ${JSON.stringify(worker)}`);
  assert.equal(health?.running, true);
  assert.equal(run.error?.class, 'timeout');
  assert.deepEqual(
    analysis.tcpFlows.map((flow) => flow.server.port),
    [silent.port],
    'the slice holds that flow and only it',
  );
  assert.match(analysis.diagnosis, /accepted the connection but never answered/);
  assert.match(String((run.details?.capture as { diagnosis?: string })?.diagnosis), /never answered/);
});

test('a check whose packets are dropped on the path gets its SYN retransmissions counted and "dropped on the path"', async (t) => {
  if (await skipUnlessCapturePermitted(t)) return;
  const namespace = createTestNamespace();
  if (typeof namespace === 'string') {
    t.skip(namespace);
    console.log(`# skipped: ${namespace}`);
    return;
  }
  t.after(() => namespace.remove());
  namespace.exec(['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '443', '-j', 'DROP']);
  const target = namespace.namespaceAddress;
  const { run, analysis } = await runCaptured(
    t,
    `{ id: dropped, kind: tcp, host: "${target}", port: 443, timeout: 3500ms }`,
    `interface: any, filter: "host ${target}"`,
  );
  assert.equal(run.error?.class, 'connect_timeout', run.error?.message);
  assert.equal(analysis.tcpFlows.length, 1);
  assert.ok(
    analysis.tcpFlows[0].synRetransmissions >= 2,
    `SYN retransmissions counted: ${JSON.stringify(analysis.tcpFlows[0])}`,
  );
  assert.match(
    analysis.diagnosis,
    new RegExp(`SYNs to ${target.replace(/\./g, '\\.')}:443 got no answer: packets are dropped on the path`),
  );
});

test('a check reset by the server gets "reset by server"', async (t) => {
  if (await skipUnlessCapturePermitted(t)) return;
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.resetAndDestroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { run, analysis } = await runCaptured(
    t,
    `{ id: resets, kind: http, url: "http://127.0.0.1:${port}/", timeout: 2s }`,
    `interface: lo, filter: "tcp port ${port}"`,
  );
  assert.equal(run.error?.class, 'reset', run.error?.message);
  assert.equal(analysis.verdict, 'reset_by_server');
  assert.match(analysis.diagnosis, /reset/);
});
