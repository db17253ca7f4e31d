import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { findOnPath } from '../../src/redis/private-redis-server.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultStore } from '../../src/results/result-store.ts';
import { openQueue } from '../../src/scheduler/run-queue.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';
import { CLI, REPO_ROOT } from '../helpers/run-cli.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

function unprivilegedReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to start a process as another user (setpriv)';
  if (!findOnPath('setpriv')) return 'setpriv (util-linux) is not installed';
  return undefined;
}

function writeConfig(lines: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-nobody-'));
  chmodSync(dir, 0o777); // the unprivileged process keeps its data dir here
  const file = join(dir, 'pathwatch.config.yaml');
  writeFileSync(file, [...lines, `dataDir: ${join(dir, 'data')}`, ''].join('\n'));
  chmodSync(file, 0o644);
  return file;
}

test('without the privilege to capture, `pathwatch capture` says exactly what is missing; exit 2', async (t) => {
  const reason = unprivilegedReason();
  if (reason) {
    t.skip(reason);
    console.log(`# skipped: ${reason}`);
    return;
  }
  const config = writeConfig(['locations:', '  inside: {}', 'capture: { interface: lo }']);
  const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn('setpriv', [...NOBODY, process.execPath, CLI, 'capture', '--config', config], {
      cwd: REPO_ROOT,
      env: { ...process.env, PATHWATCH_LOG_LEVEL: 'silent' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (code) => resolve({ code, stderr }));
  });
  assert.equal(result.code, 2);
  assert.match(
    result.stderr.trim(),
    /^pathwatch capture: tcpdump needs root or CAP_NET_RAW and CAP_NET_ADMIN: .*setcap cap_net_raw,cap_net_admin=eip .*\(running as uid 65534 without CAP_NET_RAW and CAP_NET_ADMIN\)$/,
  );
});

test('a worker without the privilege to capture says so once and keeps monitoring', async (t) => {
  const reason = unprivilegedReason();
  if (reason) {
    t.skip(reason);
    console.log(`# skipped: ${reason}`);
    return;
  }
  const server = await startHttpServer((_request, response) => response.end('ok'));
  const prefix = uniquePrefix('nobody');
  const config = writeConfig([
    'locations:',
    '  inside: {}',
    `checks: [{ id: shop, kind: http, interval: 1h, http: { url: "${server.url}/" } }]`,
    'capture: { interface: lo }',
    `redis: { prefix: ${prefix} }`,
  ]);
  const worker = spawn(
    'setpriv',
    [...NOBODY, process.execPath, CLI, 'worker', '--location', 'inside', '--config', config],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, REDIS_URL: SHARED_REDIS_URL, PATHWATCH_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  worker.stdout.on('data', (chunk) => {
    output += chunk;
  });
  const redis = createRedisConnection(SHARED_REDIS_URL);
  const queue = openQueue('runs', 'inside', redis, prefix);
  t.after(async () => {
    if (worker.exitCode === null) {
      worker.kill('SIGTERM');
      await once(worker, 'exit');
    }
    await queue.close();
    await server.close();
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });
  await queue.add('run-now', { checkId: 'shop', location: 'inside', requestedAt: Date.now() });
  const store = new ResultStore(redis, { prefix });
  let runs = await store.listRuns('shop');
  for (let attempt = 0; attempt < 80 && runs.length === 0; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    runs = await store.listRuns('shop');
  }
  assert.equal(runs[0]?.status, 'pass', `monitoring went on without captures:\n${output}`);
  const warnings = output.split('\n').filter((line) => line.includes('packet capture unavailable'));
  assert.equal(warnings.length, 1, output);
  assert.match(warnings[0], /CAP_NET_RAW and CAP_NET_ADMIN/);
});
