import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ArtifactRetention } from '../../src/artifacts/artifact-retention.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { retentionLimits } from '../../src/artifacts/retention-schedule.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';

const root = mkdtempSync(join(tmpdir(), 'pw-retention-config-'));
after(() => rmSync(root, { recursive: true, force: true }));

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12);
const base = { locations: { inside: {} } };

async function problems(raw: object): Promise<string[]> {
  try {
    await parseConfig({ ...base, ...raw }, '/tmp/pathwatch.config.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  return [];
}

test('retention defaults: captures a week, bundles a month, the rest as long as run records', async () => {
  const { settings } = await parseConfig(base, '/tmp/pathwatch.config.yaml');
  assert.equal(settings.retention.every, 10 * 60_000);
  assert.deepEqual(settings.retention.captures, { maxAge: 7 * DAY, maxBytes: 4 * 1024 ** 3 });
  assert.deepEqual(settings.retention.bundles, { maxAge: 30 * DAY, maxBytes: 2 * 1024 ** 3 });
  for (const kind of ['traces', 'screenshots', 'har', 'other'] as const)
    assert.equal(settings.retention[kind].maxAge, settings.keepRuns, kind);
  assert.deepEqual(settings.api.rateLimit, { enabled: true, max: 600, window: 60_000 });
});

test('one kind can be set alone; the others keep their defaults', async () => {
  const { settings } = await parseConfig(
    { ...base, retention: { every: '1h', traces: { maxBytes: '500MiB' } } },
    '/tmp/pathwatch.config.yaml',
  );
  assert.equal(settings.retention.every, 3_600_000);
  assert.deepEqual(settings.retention.traces, { maxAge: 14 * DAY, maxBytes: 500 * 1024 ** 2 });
  assert.equal(settings.retention.captures.maxAge, 7 * DAY);
});

test('bad retention and rate-limit values: one line each, with the path and what was expected', async () => {
  assert.deepEqual(
    (
      await problems({
        retention: {
          every: '5s',
          captures: { maxAge: '7 days', maxBytes: 'lots' },
          har: { maxAge: '2y' },
          tracez: {},
        },
        api: { rateLimit: { max: 0, window: 'soon' } },
      })
    ).sort(),
    [
      'api.rateLimit.max: must be at least 1 request, got 0',
      'api.rateLimit.window: expected a duration such as "500ms", "30s", "5m" or "1h", got "soon"',
      'retention.captures.maxAge: expected a duration such as "500ms", "30s", "5m" or "1h", got "7 days"',
      'retention.captures.maxBytes: expected a size such as "64KiB", "100MiB" or "1GiB", got "lots"',
      'retention.every: must be at least 1m, got "5s"',
      'retention.har.maxAge: expected a duration such as "500ms", "30s", "5m" or "1h", got "2y"',
      'retention.tracez: unknown key "tracez", did you mean "traces"?',
    ],
  );
  assert.deepEqual(await problems({ retention: { bundles: { maxAge: '401d' } } }), [
    'retention.bundles.maxAge: must be at most 400d, got "401d"',
  ]);
});

/** Stores an artifact as if written `ageMs` before NOW. */
async function putAged(
  store: FilesystemArtifactStore,
  dir: string,
  key: string,
  bytes: number,
  ageMs: number,
) {
  await store.put(key, Buffer.alloc(bytes, 'x'), 'application/octet-stream');
  const createdAt = NOW - ageMs;
  writeFileSync(
    join(dir, `${key}.meta.json`),
    JSON.stringify({ key, bytes, contentType: 'application/octet-stream', createdAt }),
  );
  utimesSync(join(dir, key), createdAt / 1000, createdAt / 1000);
}

test('a pass with the configured limits deletes the over-age and over-size captures, and nothing else', async () => {
  const { settings } = await parseConfig(
    { ...base, retention: { captures: { maxAge: '2d', maxBytes: '2KiB' } } },
    '/tmp/pathwatch.config.yaml',
  );
  const dir = join(root, 'configured');
  const store = new FilesystemArtifactStore(dir);
  await putAged(store, dir, 'runs/a/capture.pcap', 1024, 3 * DAY); // over age
  await putAged(store, dir, 'runs/b/capture.pcap', 1024, 1.5 * DAY); // oldest of three over 2 KiB
  await putAged(store, dir, 'runs/c/capture.pcap', 1024, 1 * DAY);
  await putAged(store, dir, 'captures/hourly/20261207T110000.000Z.pcap', 1024, 1 * 3_600_000);
  // Older and bigger than the captures' limits, but traces and screenshots keep 14 days and 1 GiB.
  await putAged(store, dir, 'runs/a/trace.zip', 8192, 3 * DAY);
  await putAged(store, dir, 'runs/b/failure.png', 4096, 13 * DAY);
  const retention = new ArtifactRetention(store, retentionLimits(settings.retention));
  const pass = await retention.enforce(NOW);
  assert.deepEqual(
    (await store.list('')).map((artifact) => artifact.key),
    [
      'captures/hourly/20261207T110000.000Z.pcap',
      'runs/a/trace.zip',
      'runs/b/failure.png',
      'runs/c/capture.pcap',
    ],
  );
  assert.deepEqual(pass.kinds.captures, { files: 2, bytes: 2048, deletedByAge: 1, deletedBySize: 1 });
  assert.deepEqual(pass.kinds.traces, { files: 1, bytes: 8192, deletedByAge: 0, deletedBySize: 0 });
  assert.deepEqual(retention.deleted.captures, { age: 1, size: 1 });
  assert.deepEqual(pass.failed, []);
});
