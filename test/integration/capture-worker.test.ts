import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { openQueue } from '../../src/scheduler/run-queue.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startStack } from '../../workers/start-stack.ts';
import { tsharkCount } from '../helpers/capture-tshark.ts';
import { createTestNamespace } from '../helpers/network-namespace.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { createTempProject } from '../helpers/temp-project.ts';
import { startSilentServer } from '../helpers/test-servers.ts';

interface CapturedRun {
  run: RunResult;
  recorder: ResultsRecorder;
  /** The run's stored slice. */
  pcapPath: string;
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
  return {
    run,
    analysis,
    recorder,
    pcapPath: join(config.dataDir, 'artifacts', `runs/${run.runId}/capture.pcap`),
  };
}

/** Where `secret` occurs in `bytes`, raw or base64-encoded (at each of the three alignments). */
function secretHits(bytes: Buffer, secret: string): string[] {
  const hits: string[] = [];
  if (bytes.includes(Buffer.from(secret))) hits.push('raw');
  for (let shift = 0; shift < 3; shift++) {
    // The base64 of the secret inside a longer string: drop the partial groups at both ends.
    const encoded = Buffer.from(`${'x'.repeat(shift)}${secret}`).toString('base64');
    const core = encoded.slice(Math.ceil((shift * 4) / 3) + 2, -4);
    if (core.length >= 8 && bytes.includes(Buffer.from(core))) hits.push(`base64 (shift ${shift})`);
  }
  return hits;
}

test('an http check sending a bearer token over http://: its slice keeps headers only, with no trace of the token; payload: full keeps it', async (t) => {
  if (await skipUnlessCapturePermitted(t)) return;
  const silent = await startSilentServer();
  t.after(() => silent.close());
  const secret = `pw-bearer-${randomBytes(12).toString('hex')}`;
  process.env.PW_TEST_CAPTURE_BEARER = secret;
  t.after(() => delete process.env.PW_TEST_CAPTURE_BEARER);
  const check = `{ id: hangs, kind: http, timeout: 500ms, auth: { bearer: "\${env:PW_TEST_CAPTURE_BEARER}" }, http: { url: "${silent.url}/", headers: { x-api-key: "\${env:PW_TEST_CAPTURE_BEARER}" } } }`;
  const cut = await runCaptured(t, check, `interface: lo, filter: "tcp port ${silent.port}"`);
  const full = await runCaptured(t, check, `interface: lo, filter: "tcp port ${silent.port}", payload: full`);
  const fullBytes = readFileSync(full.pcapPath);
  assert.deepEqual(secretHits(fullBytes, secret), ['raw'], 'payload: full keeps the request as sent');
  const cutBytes = readFileSync(cut.pcapPath);
  assert.deepEqual(secretHits(cutBytes, secret), [], 'the default slice holds no byte of the token');
  assert.deepEqual(secretHits(cutBytes, 'Authorization'), []);
  // The cut slice is a valid pcap: tshark reads every packet, and marks the cut ones as cut.
  const frames = await tsharkCount(cut.pcapPath, 'frame');
  assert.equal(
    frames,
    JSON.parse(readFileSync(cut.pcapPath.replace(/\.pcap$/, '-analysis.json'), 'utf8')).packets,
  );
  assert.ok(
    (await tsharkCount(cut.pcapPath, 'frame.cap_len < frame.len')) >= 1,
    'the request is cut, its length kept',
  );
  assert.equal(await tsharkCount(cut.pcapPath, '_ws.malformed or _ws.expert.severity == error'), 0);
  // The same diagnosis either way.
  assert.equal(cut.analysis.verdict, full.analysis.verdict);
  assert.equal(cut.analysis.diagnosis, full.analysis.diagnosis);
  assert.match(cut.analysis.diagnosis, /accepted the connection but never answered: 1 request sent/);
});

test('a check against a server that accepts and never answers times out, and its run gets the slice of that flow only', async (t) => {
  if (await skipUnlessCapturePermitted(t)) return;
  const silent = await startSilentServer();
  t.after(() => silent.close());
  const { run, analysis, recorder } = await runCaptured(
    t,
    `{ id: hangs, kind: http, timeout: 500ms, http: { url: "${silent.url}/" } }`,
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

test('a check whose packets are dropped gets its SYN retransmissions counted, and with no other location to compare, blames neither the path nor the target', async (t) => {
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
    `{ id: dropped, kind: tcp, timeout: 3500ms, tcp: { host: "${target}", port: 443 } }`,
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
    new RegExp(
      `SYNs to ${target.replace(/\./g, '\\.')}:443 got no answer: packets are lost on the way or dropped by the target`,
    ),
  );
  // One location only: nothing in this run's evidence tells the path from the target.
  assert.doesNotMatch(analysis.diagnosis, /dropped on the path/);
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
    `{ id: resets, kind: http, timeout: 2s, http: { url: "http://127.0.0.1:${port}/" } }`,
    `interface: lo, filter: "tcp port ${port}"`,
  );
  assert.equal(run.error?.class, 'reset', run.error?.message);
  assert.equal(analysis.verdict, 'reset_by_server');
  assert.match(analysis.diagnosis, /reset/);
});

test("the unfiltered window of a run can be asked for through the API, and is cut on the host that ran it, without the API's own traffic", async (t) => {
  if (await skipUnlessCapturePermitted(t)) return;
  const silent = await startSilentServer();
  const { startHttpServer } = await import('../helpers/test-servers.ts');
  const other = await startHttpServer((_request, response) => response.end('unrelated'));
  t.after(async () => {
    await silent.close();
    await other.close();
  });
  const prefix = uniquePrefix('capture-api');
  const { token: apiToken, hash: apiTokenHash } = createApiToken();
  const auth = { authorization: `Bearer ${apiToken}` };
  // The ring takes everything on lo, payloads in full: only the exclusion of the API's port
  // keeps the token (sent with every request below) out of the unfiltered slice.
  const dir = createTempProject({
    'pathwatch.config.yaml': [
      'locations:',
      '  inside: {}',
      'defaults: { retries: 0 }',
      `checks: [{ id: hangs, kind: http, timeout: 500ms, interval: 1h, http: { url: "${silent.url}/" } }]`,
      `api: { tokens: [{ name: on-call, hash: "${apiTokenHash}", role: operator }] }`,
      `capture: { interface: lo, payload: full, ringSize: 8MiB, fileSize: 2MiB, before: 1s, after: 1s }`,
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
    roles: { api: true, scheduler: true, workerLocations: ['inside'] },
    redisUrl: SHARED_REDIS_URL,
    apiPort: 0,
  });
  t.after(async () => {
    await stack.stop();
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });
  assert.equal(
    (await fetch(`${stack.apiUrl}/api/v1/checks/hangs/run`, { method: 'POST', headers: auth })).status,
    202,
  );
  // Unrelated traffic inside the run's window: left out of the run's slice, kept in the unfiltered one.
  await fetch(`${other.url}/`).then((response) => response.text());
  const recorder = new ResultsRecorder(redis, config);
  let run: RunResult | undefined;
  for (
    let attempt = 0;
    attempt < 80 && !run?.artifacts?.some((artifact) => artifact.kind === 'pcap');
    attempt++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    run = (await recorder.runs.listRuns('hangs'))[0];
  }
  assert.ok(run?.host, `the run records its host: ${JSON.stringify(run)}`);
  const request = await fetch(`${stack.apiUrl}/api/v1/runs/${run.runId}/capture`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ unfiltered: true }),
  });
  assert.equal(request.status, 202, await request.clone().text());
  let unfiltered: string | undefined;
  for (let attempt = 0; attempt < 80 && !unfiltered; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const stored = await recorder.runs.getRun(run.runId);
    unfiltered = stored?.artifacts?.find((artifact) => artifact.key.endsWith('capture-unfiltered.pcap'))?.key;
  }
  assert.ok(unfiltered, 'the unfiltered slice was attached to the run');
  const filteredPorts = (
    JSON.parse(
      readFileSync(join(config.dataDir, 'artifacts', `runs/${run.runId}/capture-analysis.json`), 'utf8'),
    ) as CapturedRun['analysis']
  ).tcpFlows.map((flow) => flow.server.port);
  const allPorts = (
    JSON.parse(
      readFileSync(
        join(config.dataDir, 'artifacts', `runs/${run.runId}/capture-unfiltered-analysis.json`),
        'utf8',
      ),
    ) as CapturedRun['analysis']
  ).tcpFlows.map((flow) => flow.server.port);
  assert.deepEqual(filteredPorts, [silent.port]);
  assert.ok(
    allPorts.includes(silent.port) && allPorts.includes(other.port),
    `unfiltered holds both flows: ${allPorts}`,
  );
  const download = await fetch(`${stack.apiUrl}/api/v1/runs/${run.runId}/artifacts/capture-unfiltered.pcap`, {
    headers: auth,
  });
  assert.equal(download.status, 200);
  const pcap = Buffer.from(await download.arrayBuffer());
  assert.equal(pcap.readUInt32LE(0), 0xa1b2c3d4, 'a classic pcap');
  assert.deepEqual(
    secretHits(pcap, apiToken),
    [],
    "the API's own requests (and its token) are not in the slice",
  );
  const apiPort = Number(new URL(stack.apiUrl!).port);
  assert.ok(!allPorts.includes(apiPort), `no flow of the API's port ${apiPort}: ${allPorts}`);
});

test('a ring that cannot start (no such interface) leaves the worker monitoring, with the reason in its health', async (t) => {
  if (await skipUnlessCapturePermitted(t)) return;
  const { CaptureAgent } = await import('../../capture/capture-agent.ts');
  const { FilesystemArtifactStore } = await import('../../src/artifacts/filesystem-artifact-store.ts');
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-noiface-'));
  const config = await loadConfig(
    join(
      createTempProject({
        'pathwatch.config.yaml': 'locations:\n  inside: {}\ncapture: { interface: pwnosuch0 }\n',
      }),
      'pathwatch.config.yaml',
    ),
  );
  const agent = new CaptureAgent(
    config.settings.capture!,
    join(dir, 'ring'),
    new FilesystemArtifactStore(dir),
    createLogger('test', 'silent'),
  );
  const started = await agent.start();
  assert.equal(started.capturing, false);
  assert.match(started.reason ?? '', /pwnosuch0/);
  assert.deepEqual(agent.health(), { capturing: false, reason: started.reason });
  await agent.stop();
});

test("an unfiltered capture is refused (403) while the API has no tokens; the run's own slice can still be asked for", async (t) => {
  const prefix = uniquePrefix('capture-open-api');
  const dir = createTempProject({
    'pathwatch.config.yaml': [
      'locations:',
      '  inside: {}',
      `redis: { prefix: ${prefix} }`,
      'dataDir: data',
      '',
    ].join('\n'),
  });
  const config = await loadConfig(join(dir, 'pathwatch.config.yaml'));
  const stack = await startStack({
    config,
    logger: createLogger('test', 'silent'),
    roles: { api: true, scheduler: true, workerLocations: [] },
    redisUrl: SHARED_REDIS_URL,
    apiPort: 0,
  });
  t.after(async () => {
    await stack.stop();
    await deleteKeysWithPrefix(prefix);
  });
  const ask = (body: unknown) =>
    fetch(`${stack.apiUrl}/api/v1/runs/someRun/capture`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const refused = await ask({ unfiltered: true });
  assert.equal(refused.status, 403);
  const body = (await refused.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'UNFILTERED_CAPTURE_REFUSED');
  assert.match(body.error.message, /refused while the API has no tokens: set api\.tokens/);
  assert.deepEqual(Object.keys(body), ['error']);
  // Not a blanket refusal: the filtered request goes on to look the run up.
  assert.equal((await ask({ unfiltered: false })).status, 404);
});
