import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createLogger } from '../../src/util/logger.ts';
import { startStack } from '../../workers/start-stack.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * The API process runs retention over its artifact store: an artifact over its kind's age
 * is gone soon after start, /metrics says so, and a stop ends the schedule promptly.
 */
const prefix = uniquePrefix('retention-stack');
const dir = mkdtempSync(join(tmpdir(), 'pw-retention-stack-'));
after(async () => {
  await deleteKeysWithPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

test('the API process deletes over-age artifacts on start, reports them in /metrics, and stops', async () => {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const config = await parseConfig(
    { locations: { inside: {} }, redis: { prefix }, dataDir: 'data', retention: { har: { maxAge: '1d' } } },
    join(dir, 'pathwatch.yaml'),
  );
  const store = new FilesystemArtifactStore(join(config.dataDir, 'artifacts'));
  await store.put('runs/old/network.har', Buffer.from('{}'), 'application/json');
  await store.put('runs/new/network.har', Buffer.from('{}'), 'application/json');
  // Written two days ago, as its sidecar records.
  const twoDaysAgo = Date.now() - 2 * 86_400_000;
  writeFileSync(
    join(config.dataDir, 'artifacts/runs/old/network.har.meta.json'),
    JSON.stringify({
      key: 'runs/old/network.har',
      bytes: 2,
      contentType: 'application/json',
      createdAt: twoDaysAgo,
    }),
  );
  const stack = await startStack({
    config,
    logger: createLogger('test', 'silent'),
    roles: { api: true, scheduler: false, workerLocations: [] },
    redisUrl: SHARED_REDIS_URL,
    apiPort: 0,
  });
  try {
    let metrics = '';
    for (
      let tries = 0;
      tries < 100 && !metrics.includes('pathwatch_retention_last_pass_timestamp_seconds ');
      tries++
    ) {
      metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
      await sleep(50);
    }
    assert.match(metrics, /^pathwatch_artifacts_deleted_total\{kind="har",reason="age"\} 1$/m);
    assert.match(metrics, /^pathwatch_artifacts_files\{kind="har"\} 1$/m);
    assert.deepEqual(
      (await store.list('')).map((artifact) => artifact.key),
      ['runs/new/network.har'],
    );
  } finally {
    const started = Date.now();
    await stack.stop();
    assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`);
  }
});
