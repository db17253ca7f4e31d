import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { buildApp } from '../../src/api/build-app.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import {
  createRedisConnection,
  REDIS_REQUEST_DEADLINE_MS,
  waitUntilReady,
} from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { startStack } from '../../workers/start-stack.ts';
import { uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { startRestartableRedis } from '../helpers/restartable-redis.ts';
import { CLI, REPO_ROOT } from '../helpers/run-cli.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

interface LogLine {
  msg?: string;
  role?: string;
}

async function get(url: string): Promise<{ status: number; body: unknown; ms: number }> {
  const started = Date.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body, ms: Date.now() - started };
}

/** Polls `probe` every 200 ms until it returns true, for at most `ms`. */
async function waitFor(what: string, ms: number, probe: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(probe)
        .catch(() => false)
    )
      return;
    await sleep(200);
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

test('during a Redis outage the API answers 503 at once, /readyz says so, and each connection logs one line lost and one back', async (t) => {
  const redis = await startRestartableRedis();
  t.after(() => redis.close());
  const target = await startHttpServer((_request, response) => response.end('ok'));
  t.after(() => target.close());
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-outage-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'pathwatch.config.yaml'),
    [
      'locations:',
      '  inside: {}',
      'defaults: { interval: 1s, timeout: 1s, retries: 0 }',
      'checks:',
      `  - { id: target, kind: http, http: { url: "${target.url}/" } }`,
      `redis: { prefix: ${uniquePrefix('outage')} }`,
      'dataDir: data',
      '',
    ].join('\n'),
  );
  const child = spawn(
    process.execPath,
    [CLI, 'start', '--config', join(dir, 'pathwatch.config.yaml'), '--api-port', '0'],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, REDIS_URL: redis.url, PATHWATCH_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  await waitFor('pathwatch start', 30_000, () => stdout.includes('pathwatch: running'));
  const api = /pathwatch: API at (http:\/\/\S+)/.exec(stdout)?.[1];
  assert.ok(api, stdout);
  const runsUrl = `${api}/api/v1/checks/target/runs`;
  await waitFor('a stored run', 15_000, async () => {
    const runs = await get(runsUrl);
    return runs.status === 200 && (runs.body as { runs: unknown[] }).runs.length > 0;
  });
  assert.equal((await get(`${api}/readyz`)).status, 200);

  const outputBefore = { stdout: stdout.length, stderr: stderr.length };
  await redis.kill();
  const runs = await get(runsUrl);
  assert.equal(runs.status, 503, JSON.stringify(runs.body));
  assert.equal((runs.body as { error: { code: string } }).error.code, 'REDIS_UNAVAILABLE');
  assert.ok(runs.ms < 2500, `answered in ${runs.ms} ms`);
  const notReady = await get(`${api}/readyz`);
  assert.equal(notReady.status, 503);
  assert.match((notReady.body as { error: { message: string } }).error.message, /Redis is unreachable/);
  assert.ok(notReady.ms < 2500, `readyz answered in ${notReady.ms} ms`);
  const runNow = await fetch(`${api}/api/v1/checks/target/run`, {
    method: 'POST',
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(runNow.status, 503, 'run now is refused rather than queued on a dead connection');
  assert.equal((await get(`${api}/healthz`)).status, 200, 'liveness: the process itself is fine');

  // Long enough for many reconnect attempts by every connection.
  await sleep(5000);
  await redis.start();
  await waitFor('/readyz answers 200 again', 15_000, async () => (await get(`${api}/readyz`)).status === 200);
  assert.equal((await get(runsUrl)).status, 200);

  const events = () =>
    stdout
      .slice(outputBefore.stdout)
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);
  const rolesWith = (prefix: string) =>
    events()
      .filter((line) => line.msg?.startsWith(prefix))
      .map((line) => line.role ?? '');
  await waitFor('a "back" line for every connection that logged "lost"', 20_000, () => {
    const lost = rolesWith('redis connection lost');
    return lost.length > 0 && lost.every((role) => rolesWith('redis connection back').includes(role));
  });
  const lost = rolesWith('redis connection lost');
  const back = rolesWith('redis connection back');
  for (const role of ['api', 'results', 'scheduler', 'worker inside']) {
    assert.equal(lost.filter((r) => r === role).length, 1, `one "lost" line for ${role}: ${lost}`);
    assert.equal(back.filter((r) => r === role).length, 1, `one "back" line for ${role}: ${back}`);
  }
  assert.deepEqual([...lost].sort(), [...new Set(lost)].sort(), 'one "lost" line per role');
  assert.deepEqual([...back].sort(), [...lost].sort(), 'one "back" line per role that was lost');
  const printed = stdout.slice(outputBefore.stdout) + stderr.slice(outputBefore.stderr);
  assert.doesNotMatch(printed, /\n\s+at /, 'no stack traces');
  assert.equal(stderr.slice(outputBefore.stderr), '', 'nothing on stderr');
  const redisLines = events().filter((line) => /redis|ECONNREFUSED/i.test(JSON.stringify(line)));
  assert.equal(redisLines.length, lost.length + back.length, JSON.stringify(redisLines, null, 1));
});

test('a Redis that stops answering (SIGSTOP) gets a 503 within the request deadline, and /readyz follows it', async (t) => {
  const server = await startRestartableRedis();
  t.after(() => server.close());
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const redis = createRedisConnection(server.url, { failFast: true, role: 'api', logger });
  t.after(() => redis.disconnect());
  await waitUntilReady(redis);
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'shop', kind: 'http', http: { url: 'http://127.0.0.1:4601/health' } }],
      redis: { prefix: uniquePrefix('hung') },
    },
    '/tmp/hung.yaml',
  );
  const app = await buildApp({ config, recorder: new ResultsRecorder(redis, config), redis });
  t.after(() => app.close());
  assert.equal((await app.inject({ url: '/api/v1/checks/shop/runs' })).statusCode, 200);
  assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);

  server.pause();
  let started = Date.now();
  const runs = await app.inject({ url: '/api/v1/checks/shop/runs' });
  const elapsed = Date.now() - started;
  assert.equal(runs.statusCode, 503, runs.body);
  assert.equal(runs.json().error.code, 'REDIS_UNAVAILABLE');
  assert.match(runs.json().error.message, new RegExp(`no answer within ${REDIS_REQUEST_DEADLINE_MS} ms`));
  assert.ok(elapsed < REDIS_REQUEST_DEADLINE_MS + 1000, `answered in ${elapsed} ms`);
  started = Date.now();
  const notReady = await app.inject({ url: '/readyz' });
  assert.equal(notReady.statusCode, 503, notReady.body);
  assert.ok(Date.now() - started < REDIS_REQUEST_DEADLINE_MS + 1000);

  server.resume();
  assert.equal((await app.inject({ url: '/readyz' })).statusCode, 200);
  assert.equal((await app.inject({ url: '/api/v1/checks/shop/runs' })).statusCode, 200);
  assert.doesNotMatch(lines.join(''), /\\n\s+at /, 'no stack traces logged');
});

test('a connection and the duplicates made of it log one "lost" and one "back" line for their role, however many retries', async (t) => {
  const server = await startRestartableRedis();
  t.after(() => server.close());
  const lines: Array<{ msg: string; role: string; reason?: string }> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const connection = createRedisConnection(server.url, { role: 'worker inside', logger });
  // BullMQ duplicates a worker's connection for its blocking reads, and forwards every
  // 'error' it hears to the worker: those forwarded errors were the flood of stacks.
  const duplicate = connection.duplicate();
  let forwarded = 0;
  for (const each of [connection, duplicate]) each.on('error', () => forwarded++);
  t.after(() => {
    connection.disconnect();
    duplicate.disconnect();
  });
  await Promise.all([waitUntilReady(connection), waitUntilReady(duplicate)]);

  await server.kill();
  await sleep(3000); // ioredis retries every 50–2000 ms meanwhile: a dozen attempts each
  await server.start();
  await waitFor(
    'both connections back',
    10_000,
    () => connection.status === 'ready' && duplicate.status === 'ready',
  );
  await waitFor('the "back" line', 5000, () =>
    lines.some((line) => line.msg.startsWith('redis connection back')),
  );
  const lost = lines.filter((line) => line.msg.startsWith('redis connection lost'));
  const back = lines.filter((line) => line.msg.startsWith('redis connection back'));
  assert.equal(lost.length, 1, JSON.stringify(lines));
  assert.equal(back.length, 1, JSON.stringify(lines));
  assert.equal(lost[0].role, 'worker inside');
  assert.equal(lines.length, 2, 'nothing else logged');
  assert.equal(forwarded, 0, "retries' errors are not passed on to each listener");
  assert.equal(await duplicate.ping(), 'PONG');
});

test('run now answers 503 within the request deadline while Redis does not answer, though the API connection still looks ready', async (t) => {
  const server = await startRestartableRedis();
  t.after(() => server.close());
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'shop', kind: 'http', interval: '1h', http: { url: 'http://127.0.0.1:9/health' } }],
      redis: { prefix: uniquePrefix('run-now-hung') },
    },
    '/tmp/run-now-hung.yaml',
  );
  const stack = await startStack({
    config,
    logger: pino({ level: 'silent' }),
    roles: { api: true, scheduler: true, workerLocations: [] },
    redisUrl: server.url,
    apiPort: 0,
  });
  let paused = false;
  t.after(async () => {
    if (paused) server.resume();
    await stack.stop();
  });
  const runNow = async () => {
    const started = Date.now();
    const response = await fetch(`${stack.apiUrl}/api/v1/checks/shop/run`, {
      method: 'POST',
      signal: AbortSignal.timeout(REDIS_REQUEST_DEADLINE_MS + 5000),
    });
    return {
      status: response.status,
      body: (await response.json()) as { error?: { code: string } },
      ms: Date.now() - started,
    };
  };
  assert.equal((await runNow()).status, 202);

  // A hung Redis (SIGSTOP): every connection stays "ready", so only a deadline on the
  // command that queues the run bounds the request; the scheduler's connection has none.
  server.pause();
  paused = true;
  const refused = await runNow().catch((error: Error) => ({
    status: 0,
    body: { error: { code: error.name } },
    ms: -1,
  }));
  assert.equal(refused.status, 503, JSON.stringify(refused));
  assert.equal(refused.body.error?.code, 'REDIS_UNAVAILABLE');
  assert.ok(refused.ms < REDIS_REQUEST_DEADLINE_MS + 1000, `answered in ${refused.ms} ms`);
  server.resume();
  paused = false;
  await waitFor('run now accepted again', 10_000, async () => (await runNow()).status === 202);
});
