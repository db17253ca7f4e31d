import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort } from '../../src/redis/private-redis-server.ts';
import { CLI, REPO_ROOT } from '../helpers/run-cli.ts';

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
      `  - { id: shop-health, kind: http, url: "http://127.0.0.1:${shopPort}/health", expect: { json: [{ path: "$.status", equals: ok }] } }`,
      'dataDir: data',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, PATHWATCH_LOG_LEVEL: 'warn' };
  delete env.REDIS_URL;
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--config', configFile, '--api-port', '0', '--with-demo-shop', String(shopPort)],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(() => {
    // SIGINT first so the stack stops what it started; SIGKILL only if that hangs.
    if (child.exitCode === null) child.kill('SIGINT');
    setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 10_000).unref();
  });
  let output = '';
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const apiUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no API address within 30 s:\n${output}`)), 30_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /pathwatch: API at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`pathwatch start exited with ${code}:\n${output}`)));
  });
  assert.match(output, /pathwatch: redis at redis:\/\/127\.0\.0\.1:\d+ \(private/);
  const redisPid = Number(readFileSync(join(dir, 'data', 'redis', 'redis.pid'), 'utf8'));
  assert.ok(isAlive(redisPid), 'the private redis-server runs');

  // Within two check intervals a run is stored at each location and served by the API.
  let runs: Array<{ status: string; location: string; runId: string }> = [];
  for (let attempt = 0; attempt < 60 && new Set(runs.map((run) => run.location)).size < 2; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    runs = (await (await fetch(`${apiUrl}/api/v1/checks/shop-health/runs`)).json()).runs;
  }
  assert.deepEqual([...new Set(runs.map((run) => run.location))].sort(), ['inside', 'outside'], output);
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
  assert.equal(code, 0, output);
  assert.match(output, /pathwatch: stopped/);
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
  const env: NodeJS.ProcessEnv = { ...process.env, PATHWATCH_LOG_LEVEL: 'warn' };
  delete env.REDIS_URL;
  const child = spawn(process.execPath, [CLI, 'start', '--config', configFile, '--api-port', '0'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start within 30 s:\n${output}`)), 30_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('pathwatch: running')) {
        clearTimeout(timer);
        resolve();
      }
    });
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
      `checks: [{ id: shop-health, kind: http, url: "http://127.0.0.1:${shopPort}/health" }]`,
      'dataDir: data',
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, PATHWATCH_LOG_LEVEL: 'warn' };
  delete env.REDIS_URL;
  // Its own process group, as a shell gives a foreground job.
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--config', configFile, '--api-port', '0', '--with-demo-shop', String(shopPort)],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  t.after(() => {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
  });
  let output = '';
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack did not start within 30 s:\n${output}`)), 30_000);
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('pathwatch: running')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  // Slow answers, so runs are in flight when Ctrl-C comes and must still be stored.
  await fetch(`http://127.0.0.1:${shopPort}/admin/faults`, {
    method: 'POST',
    body: JSON.stringify({ delayMs: 1500 }),
  });
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const redisPid = Number(readFileSync(join(dir, 'data', 'redis', 'redis.pid'), 'utf8'));
  const started = Date.now();
  process.kill(-child.pid!, 'SIGINT');
  const [code] = (await Promise.race([
    once(child, 'exit'),
    new Promise((resolve) => setTimeout(() => resolve(['still running after 20 s']), 20_000)),
  ])) as [number | string];
  assert.equal(code, 0, output);
  assert.ok(Date.now() - started < 15_000, `stopped in ${Date.now() - started} ms`);
  assert.match(output, /pathwatch: stopped/);
  assert.ok(!output.includes('ECONNREFUSED'), `Redis was not gone before the stack stopped:\n${output}`);
  for (let attempt = 0; attempt < 50 && isAlive(redisPid); attempt++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(!isAlive(redisPid));
});
