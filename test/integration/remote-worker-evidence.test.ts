import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { unzipSync } from 'fflate';
import { checkCapturePermission } from '../../capture/capture-permission.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { loadJourneys } from '../../src/journeys/load-journeys.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startStack } from '../../workers/start-stack.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { CLI } from '../helpers/run-cli.ts';
import { createTempProject } from '../helpers/temp-project.ts';
import { startHttpServer, startSilentServer } from '../helpers/test-servers.ts';

/**
 * Issue 13, done-when 4 (evidence from every host): the API and scheduler run with data dir
 * A; a worker in its own process, with data dir B and `artifacts.deliverTo`, runs a failing
 * check with packet capture and a failing journey in Chromium. Through the API alone, the
 * check's pcap slice, the journey's trace and both runs' bundles are served, and B's spool
 * ends empty.
 */

interface RunSummary {
  runId: string;
  status: string;
  artifacts?: Array<{ key: string; kind: string }>;
}

async function skipUnlessCapturePermitted(t: TestContext): Promise<boolean> {
  try {
    await checkCapturePermission();
    return false;
  } catch (error) {
    t.skip((error as Error).message);
    return true;
  }
}

/** `pathwatch worker` as its own process; resolves once it says it is running. */
async function startWorker(
  configFile: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<ChildProcess & { output: () => string }> {
  const child = spawn(process.execPath, [CLI, 'worker', '--location', 'outside', '--config', configFile], {
    cwd,
    env: { ...process.env, PATHWATCH_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const deadline = Date.now() + 30_000;
  while (!output.includes('pathwatch: running')) {
    if (child.exitCode !== null) throw new Error(`the worker exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the worker did not start within 30 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return Object.assign(child, { output: () => output });
}

test('a worker with its own disk delivers its pcap slice and journey trace to the API, which serves them and their bundles', async (t) => {
  if (await skipUnlessCapturePermitted(t)) return;
  const prefix = uniquePrefix('remote-worker');
  t.after(() => deleteKeysWithPrefix(prefix));
  const silent = await startSilentServer();
  t.after(() => silent.close());
  const shop = await startHttpServer((_request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end('<!doctype html><title>shop</title><h1>Shop</h1><p>the pay button is missing</p>');
  });
  t.after(() => shop.close());
  const operator = createApiToken();
  const worker = createApiToken();
  const common = [
    'locations: { outside: {} }',
    'defaults: { retries: 0, interval: 1h }',
    `checks: [{ id: hangs, kind: http, timeout: 500ms, http: { url: "${silent.url}/" } }]`,
    'journeys: journeys/*.journey.ts',
    `redis: { prefix: ${prefix} }`,
  ];
  const project = createTempProject({
    'api.config.yaml': [
      ...common,
      'api: { port: 0, tokens: [',
      `  { name: on-call, hash: "${operator.hash}", role: operator },`,
      `  { name: worker-outside, hash: "${worker.hash}", role: worker } ] }`,
      'dataDir: data-a',
      '',
    ].join('\n'),
    'journeys/pay.journey.ts': [
      "import { journey } from 'pathwatch';",
      'export default journey({',
      "  id: 'pay',",
      "  timeout: '20s',",
      '  async run({ page, step, expect }) {',
      `    await step('open shop', async () => { await page.goto(${JSON.stringify(shop.url)}); });`,
      "    await step('pay', async () => { await expect(page.getByRole('button', { name: 'Pay' })).toBeVisible({ timeout: 1000 }); });",
      '  },',
      '});',
      '',
    ].join('\n'),
  });

  // The API and the scheduler, on data dir A, with no worker.
  const apiConfig = await loadConfig(join(project, 'api.config.yaml'));
  const apiStack = await startStack({
    config: apiConfig,
    journeys: (await loadJourneys(apiConfig)).journeys,
    logger: createLogger('test-api', 'silent'),
    roles: { api: true, scheduler: true, workerLocations: [] },
    redisUrl: SHARED_REDIS_URL,
    apiPort: 0,
  });
  t.after(() => apiStack.stop());
  const apiUrl = apiStack.apiUrl!;

  // The worker on data dir B: its own disk, delivering to the API.
  writeFileSync(
    join(project, 'worker.config.yaml'),
    [
      ...common,
      `capture: { interface: lo, filter: "tcp port ${silent.port}", ringSize: 8MiB, fileSize: 2MiB, before: 1s, after: 1s }`,
      `artifacts: { deliverTo: { url: "${apiUrl}", token: "\${env:PATHWATCH_UPLOAD_TOKEN}" } }`,
      'dataDir: data-b',
      '',
    ].join('\n'),
  );
  const child = await startWorker(join(project, 'worker.config.yaml'), project, {
    REDIS_URL: SHARED_REDIS_URL,
    PATHWATCH_UPLOAD_TOKEN: worker.token,
    PATHWATCH_EXTRA_BROWSER_ARGS: LOOPBACK_ONLY_CHROMIUM_ARGS.join('\n'),
  });
  t.after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });

  const headers = { authorization: `Bearer ${operator.token}` };
  const api = async (path: string) => fetch(`${apiUrl}${path}`, { headers });
  for (const id of ['hangs', 'pay']) {
    const queued = await fetch(`${apiUrl}/api/v1/checks/${id}/run`, { method: 'POST', headers });
    assert.equal(queued.status, 202, await queued.text());
  }

  /** The check's newest run once it lists an artifact of `kind` that the API serves. */
  const servedRun = async (checkId: string, kind: string): Promise<{ run: RunSummary; name: string }> => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const runs = (await (await api(`/api/v1/checks/${checkId}/runs`)).json()) as
        | { runs?: RunSummary[] }
        | RunSummary[];
      const list = Array.isArray(runs) ? runs : (runs.runs ?? []);
      const run = list.find((candidate) => candidate.artifacts?.some((artifact) => artifact.kind === kind));
      const key = run?.artifacts?.find((artifact) => artifact.kind === kind)?.key;
      if (run && key) {
        const name = key.split('/').pop()!;
        if ((await api(`/api/v1/runs/${run.runId}/artifacts/${name}`)).status === 200) return { run, name };
      }
      if (Date.now() > deadline)
        throw new Error(
          `no served ${kind} for ${checkId} within 60 s: ${JSON.stringify(list)}\n${child.output()}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  const hangs = await servedRun('hangs', 'pcap');
  assert.equal(hangs.run.status, 'fail', `the run: ${JSON.stringify(hangs.run)}\n${child.output()}`);
  const pcap = Buffer.from(
    await (await api(`/api/v1/runs/${hangs.run.runId}/artifacts/${hangs.name}`)).arrayBuffer(),
  );
  assert.ok(
    [0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1].includes(pcap.readUInt32BE(0)),
    'a pcap file, served by the API from its own store',
  );
  const pay = await servedRun('pay', 'trace');
  // An `error` (pathwatch's own trouble, not the journey's) says why here, with the logs.
  assert.equal(pay.run.status, 'fail', `the run: ${JSON.stringify(pay.run)}\n${child.output()}`);
  const trace = Buffer.from(
    await (await api(`/api/v1/runs/${pay.run.runId}/artifacts/${pay.name}`)).arrayBuffer(),
  );
  assert.equal(trace.subarray(0, 2).toString('latin1'), 'PK', 'the trace is a zip');

  for (const [run, file] of [
    [hangs.run, hangs.name],
    [pay.run, pay.name],
  ] as const) {
    const bundle = await api(`/api/v1/runs/${run.runId}/bundle`);
    assert.equal(bundle.status, 200);
    const entries = unzipSync(new Uint8Array(await bundle.arrayBuffer()));
    const held = Object.entries(entries).find(([path]) => path.endsWith(`/${file}`));
    assert.ok(held && held[1].length > 0, `the bundle holds ${file}: ${Object.keys(entries).join(', ')}`);
  }

  // On A, the files; on B, nothing left to deliver.
  assert.ok(existsSync(join(project, 'data-a', 'artifacts', 'runs', hangs.run.runId, hangs.name)));
  const spool = join(project, 'data-b', 'artifacts');
  const left = existsSync(spool)
    ? readdirSync(spool, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile())
    : [];
  // A slice's analysis may still be on its way; the run's own files are not.
  assert.ok(
    !left.some((entry) => entry.name === hangs.name || entry.name === pay.name),
    `delivered files leave B: ${left.map((entry) => entry.name).join(', ')}`,
  );
  assert.doesNotMatch(child.output(), /delivery is failing|refused an artifact/);
});
