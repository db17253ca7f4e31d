import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/redis/private-redis-server.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { REPO_ROOT, runCli, startPathwatch } from '../helpers/run-cli.ts';
import { createTempProject } from '../helpers/temp-project.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The quick start, end to end: `pathwatch start` with no REDIS_URL starts its own
 * redis-server, the demo shop, a worker per location and the API; a run of the example
 * check is stored and served; Ctrl-C stops everything it started.
 */
test('pathwatch start runs the whole stack on its own Redis and serves stored runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-stack-'));
  const shopPort = await freePort();
  const configFile = join(dir, 'pathwatch.config.yaml');
  writeFileSync(
    configFile,
    [
      'locations:',
      '  inside: {}',
      '  outside: {}',
      'defaults: { interval: 2s, timeout: 2s }',
      'checks:',
      `  - { id: shop-health, kind: http, http: { url: "http://127.0.0.1:${shopPort}/health", expect: { json: [{ path: "$.status", equals: ok }] } } }`,
      'dataDir: data',
      '',
    ].join('\n'),
  );
  const started = await startPathwatch([
    'start',
    '--config',
    configFile,
    '--api-port',
    '0',
    '--with-demo-shop',
    String(shopPort),
  ]);
  const { child } = started;
  t.after(() => {
    // SIGINT first so the stack stops what it started; SIGKILL only if that hangs.
    if (child.exitCode === null) child.kill('SIGINT');
    setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 10_000).unref();
  });
  const apiUrl = started.apiUrl!;
  assert.match(started.output(), /pathwatch: redis at redis:\/\/127\.0\.0\.1:\d+ \(private/);
  const redisPid = Number(readFileSync(join(dir, 'data', 'redis', 'redis.pid'), 'utf8'));
  assert.ok(isAlive(redisPid), 'the private redis-server runs');

  // Within two check intervals a run is stored at each location and served by the API.
  let runs: Array<{ status: string; location: string; runId: string }> = [];
  for (let attempt = 0; attempt < 60 && new Set(runs.map((run) => run.location)).size < 2; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    runs = (await (await fetch(`${apiUrl}/api/v1/checks/shop-health/runs`)).json()).runs;
  }
  assert.deepEqual(
    [...new Set(runs.map((run) => run.location))].sort(),
    ['inside', 'outside'],
    started.output(),
  );
  assert.ok(
    runs.every((run) => run.status === 'pass'),
    JSON.stringify(runs),
  );
  const one = await (await fetch(`${apiUrl}/api/v1/runs/${runs[0].runId}`)).json();
  assert.equal(one.checkId, 'shop-health');
  const checks = (await (await fetch(`${apiUrl}/api/v1/checks`)).json()).checks;
  assert.equal(checks[0].latest.inside.status, 'pass');

  // Run now: one more run at each location, without waiting for the schedule.
  const before = runs.length;
  const runNow = await fetch(`${apiUrl}/api/v1/checks/shop-health/run`, { method: 'POST' });
  assert.equal(runNow.status, 202);
  assert.deepEqual((await runNow.json()).locations, ['inside', 'outside']);
  let after = before;
  for (let attempt = 0; attempt < 40 && after < before + 2; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    after = (await (await fetch(`${apiUrl}/api/v1/checks/shop-health/runs`)).json()).runs.length;
  }
  assert.ok(after >= before + 2, `run now ran at both locations (${before} -> ${after})`);

  child.kill('SIGINT');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, started.output());
  assert.match(started.output(), /pathwatch: stopped/);
  assert.ok(!isAlive(redisPid), 'the private redis-server stopped with the stack');
  assert.ok(
    existsSync(join(dir, 'data', 'redis', 'appendonlydir')),
    'redis kept its append-only file under the data dir',
  );
});

test('a private redis-server does not outlive a pathwatch killed with SIGKILL', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-stack-'));
  const configFile = join(dir, 'pathwatch.config.yaml');
  writeFileSync(configFile, 'locations:\n  inside: {}\ndataDir: data\n');
  const { child } = await startPathwatch(['start', '--config', configFile, '--api-port', '0']);
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const redisPid = Number(readFileSync(join(dir, 'data', 'redis', 'redis.pid'), 'utf8'));
  assert.ok(isAlive(redisPid));
  child.kill('SIGKILL');
  await once(child, 'exit');
  for (let attempt = 0; attempt < 50 && isAlive(redisPid); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(!isAlive(redisPid), 'redis-server got SIGTERM from the kernel when its parent died');
});

test('Ctrl-C in a terminal (SIGINT to the whole process group) stops cleanly: Redis stops last, not first', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-stack-'));
  const configFile = join(dir, 'pathwatch.config.yaml');
  const shopPort = await freePort();
  writeFileSync(
    configFile,
    [
      'locations:',
      '  inside: {}',
      'defaults: { interval: 1s, timeout: 2s }',
      `checks: [{ id: shop-health, kind: http, http: { url: "http://127.0.0.1:${shopPort}/health" } }]`,
      'dataDir: data',
      '',
    ].join('\n'),
  );
  // Its own process group, as a shell gives a foreground job.
  const started = await startPathwatch(
    ['start', '--config', configFile, '--api-port', '0', '--with-demo-shop', String(shopPort)],
    { detached: true },
  );
  const { child } = started;
  t.after(() => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  // Slow answers, so runs are in flight when Ctrl-C comes: they are cancelled and stored.
  await fetch(`http://127.0.0.1:${shopPort}/admin/faults`, {
    method: 'POST',
    body: JSON.stringify({ delayMs: 1500 }),
  });
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const redisPid = Number(readFileSync(join(dir, 'data', 'redis', 'redis.pid'), 'utf8'));
  const stopAt = Date.now();
  process.kill(-child.pid!, 'SIGINT');
  const [code] = (await Promise.race([
    once(child, 'exit'),
    new Promise((resolve) => setTimeout(() => resolve(['still running after 20 s']), 20_000)),
  ])) as [number | string];
  assert.equal(code, 0, started.output());
  assert.ok(Date.now() - stopAt < 15_000, `stopped in ${Date.now() - stopAt} ms`);
  assert.match(started.output(), /pathwatch: stopped/);
  assert.ok(
    !started.output().includes('ECONNREFUSED'),
    `Redis was not gone before the stack stopped:\n${started.output()}`,
  );
  for (let attempt = 0; attempt < 50 && isAlive(redisPid); attempt++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(!isAlive(redisPid));
});

test('the bundled example (the quick start) stores a run of its HTTP check within two check intervals, and captures: the slice of a closeConnections failure is served', async (t) => {
  const shopPort = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'pathwatch-example-'));
  const { LOOPBACK_ONLY_CHROMIUM_ARGS } = await import('../helpers/loopback-browser.ts');
  const started = await startPathwatch(
    ['start', '--config', 'pathwatch.config.ts', '--api-port', '0', '--with-demo-shop', String(shopPort)],
    {
      env: {
        DEMO_SHOP_URL: `http://127.0.0.1:${shopPort}`,
        PATHWATCH_DATA_DIR: dataDir,
        PATHWATCH_EXTRA_BROWSER_ARGS: LOOPBACK_ONLY_CHROMIUM_ARGS.join('\n'),
      },
    },
  );
  const { child } = started;
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGINT');
    setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 10_000).unref();
  });
  assert.ok(started.apiUrl, started.output());
  const checks = (await (await fetch(`${started.apiUrl}/api/v1/checks/shop-health`)).json()) as {
    intervalMs: number;
  };
  const deadline = Date.now() + 2 * checks.intervalMs;
  let runs: Array<{ status: string }> = [];
  while (runs.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    runs = (await (await fetch(`${started.apiUrl}/api/v1/checks/shop-health/runs`)).json()).runs;
  }
  assert.ok(runs.length > 0, `a run within ${2 * checks.intervalMs} ms:\n${started.output()}`);
  assert.equal(runs[0].status, 'pass');

  // The example captures: where this machine lets tcpdump run, the shop's closeConnections
  // fault leaves a failed run with its slice; where it does not, one line says why.
  if (!/packet capture (ring|unavailable)/.test(started.output())) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  if (/packet capture unavailable/.test(started.output())) {
    t.diagnostic(
      `capture not possible here: ${/packet capture unavailable.*$/m.exec(started.output())?.[0]}`,
    );
    return;
  }
  const fault = await fetch(`http://127.0.0.1:${shopPort}/admin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ closeConnections: true }),
  }).catch((error: Error) => {
    throw new Error(`the demo shop did not take the fault (${error.message}):\n${started.output()}`);
  });
  assert.equal(fault.status, 200, await fault.text());
  type StoredRun = { runId: string; status: string; artifacts?: Array<{ kind: string; key: string }> };
  let sliced: StoredRun | undefined;
  const sliceDeadline = Date.now() + 3 * checks.intervalMs + 15_000;
  while (!sliced && Date.now() < sliceDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const recent: StoredRun[] = (
      await (await fetch(`${started.apiUrl}/api/v1/checks/shop-health/runs?limit=20`)).json()
    ).runs;
    sliced = recent.find(
      (run) => run.status === 'fail' && run.artifacts?.some((artifact) => artifact.kind === 'pcap'),
    );
  }
  assert.ok(sliced, `a failed run with its capture slice:\n${started.output()}`);
  const name = sliced
    .artifacts!.find((artifact) => artifact.kind === 'pcap')!
    .key.split('/')
    .pop()!;
  const pcap = await fetch(`${started.apiUrl}/api/v1/runs/${sliced.runId}/artifacts/${name}`);
  assert.equal(pcap.status, 200);
  assert.equal(pcap.headers.get('content-type'), 'application/vnd.tcpdump.pcap');
  const bytes = Buffer.from(await pcap.arrayBuffer());
  assert.ok([0xa1b2c3d4, 0xd4c3b2a1].includes(bytes.readUInt32BE(0)), 'a pcap file');
});

test("a second pathwatch on the same data dir is refused, and the first one's Redis is left alone", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-stack-'));
  const configFile = join(dir, 'pathwatch.config.yaml');
  writeFileSync(configFile, 'locations:\n  inside: {}\ndataDir: data\n');
  const first = await startPathwatch(['start', '--config', configFile, '--api-port', '0']);
  t.after(() => {
    if (first.child.exitCode === null) first.child.kill('SIGKILL');
  });
  const redisPid = Number(readFileSync(join(dir, 'data', 'redis', 'redis.pid'), 'utf8'));
  const env: NodeJS.ProcessEnv = { ...process.env, PATHWATCH_LOG_LEVEL: 'silent' };
  delete env.REDIS_URL;
  const second = await runCli(['start', '--config', configFile, '--api-port', '0'], { env });
  assert.equal(second.code, 2);
  assert.match(
    second.stderr.trim(),
    new RegExp(`data is in use by another pathwatch \\(its redis-server is pid ${redisPid}\\)`),
  );
  assert.ok(isAlive(redisPid), "the first one's Redis still runs");
});

/** Pids of the processes whose command line holds `marker`. */
function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('SIGTERM during a 10-minute journey: pathwatch exits within seconds, its Chromium with it, the run stored as cancelled', async (t) => {
  let pageRequests = 0;
  const site = await startHttpServer((_request, response) => {
    pageRequests++;
    response.end('<!doctype html><title>waiting</title>');
  });
  t.after(() => site.close());
  const dir = createTempProject({
    'pathwatch.config.yaml': 'locations: { inside: {} }\njourneys: journeys/*.journey.ts\ndataDir: data\n',
    'journeys/wait-forever.journey.ts': readFileSync(
      join(REPO_ROOT, 'test/fixtures/journeys/wait-forever.journey.ts'),
      'utf8',
    ),
  });
  // A flag no other Chromium has, to find this one's processes after pathwatch is gone.
  const marker = `--pathwatch-sigterm-test=${process.pid}-${Date.now()}`;
  const started = await startPathwatch(
    ['start', '--config', join(dir, 'pathwatch.config.yaml'), '--api-port', '0'],
    {
      env: {
        PATHWATCH_LOG_LEVEL: 'info',
        WAIT_FOREVER_URL: `${site.url}/`,
        PATHWATCH_EXTRA_BROWSER_ARGS: [...LOOPBACK_ONLY_CHROMIUM_ARGS, marker].join('\n'),
      },
    },
  );
  const { child } = started;
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const runNow = await fetch(`${started.apiUrl}/api/v1/checks/wait-forever/run`, { method: 'POST' });
  assert.equal(runNow.status, 202, await runNow.text());
  for (let waited = 0; pageRequests === 0; waited += 100) {
    assert.ok(waited < 30_000, `the journey opens its page:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 500)); // waiting for what never comes
  assert.ok(processesWith(marker).length > 0, 'the journey runs in Chromium');
  const stopAt = Date.now();
  child.kill('SIGTERM');
  const [code] = (await Promise.race([
    once(child, 'exit'),
    new Promise((resolve) => setTimeout(() => resolve(['still running after 30 s']), 30_000)),
  ])) as [number | string];
  const stopMs = Date.now() - stopAt;
  assert.equal(code, 0, started.output());
  assert.ok(stopMs < 10_000, `exited ${stopMs} ms after SIGTERM`);
  assert.deepEqual(processesWith(marker), [], 'no Chromium outlives pathwatch');
  const finished = started
    .output()
    .split('\n')
    .filter((line) => line.includes('"run finished"') && line.includes('wait-forever'));
  assert.equal(finished.length, 1, started.output());
  assert.match(finished[0], /"status":"error"/);
  assert.match(finished[0], /step 2 \\"wait for what never comes\\": cancelled by shutdown/);
});
