import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { ArtifactRetention, type RetentionLimits } from '../../src/artifacts/artifact-retention.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { promtoolCheckMetrics, promtoolPath } from '../helpers/promtool.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 13, done-when 5: /metrics is read by Prometheus' own checker (promtool), and its
 * values are the stored state: blackbox_exporter's names (probe_success,
 * probe_duration_seconds, probe_http_duration_seconds by phase, probe_http_status_code,
 * probe_ssl_earliest_cert_expiry) per check and location, beside pathwatch's own.
 */
const prefix = uniquePrefix('metrics');
let redis: Redis;
let app: FastifyInstance;
const LEAF_EXPIRY = '2027-03-01T00:00:00.000Z';
const INTERMEDIATE_EXPIRY = '2026-12-24T00:00:00.000Z';
const artifactDir = mkdtempSync(join(tmpdir(), 'pw-metrics-artifacts-'));
let retention: ArtifactRetention;
let retentionPassAt: number;

function run(
  overrides: Partial<RunResult> & Pick<RunResult, 'runId' | 'checkId' | 'kind' | 'location'>,
): RunResult {
  return {
    startedAt: Date.now() - 1000,
    finishedAt: Date.now() - 900,
    attempt: 1,
    status: 'pass',
    phases: { total: 100 },
    peers: [],
    ...overrides,
  };
}

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: [
        { id: 'shop', kind: 'http', http: { url: 'https://127.0.0.1:4601/' } },
        { id: 'db-primary', kind: 'tcp', tcp: { host: '127.0.0.1', port: 5432 } },
      ],
      redis: { prefix },
    },
    '/tmp/metrics.yaml',
  );
  const recorder = new ResultsRecorder(redis, config);
  const options = { counted: true, policy: { downAfter: 1, upAfter: 1 }, locations: ['inside', 'outside'] };
  await recorder.record(
    run({
      runId: 'shopin1',
      checkId: 'shop',
      kind: 'http',
      location: 'inside',
      phases: { dns: 2, connect: 3, tls: 12.5, firstByte: 40, download: 2.5, total: 60 },
      details: {
        statusCode: 200,
        certificate: {
          validTo: LEAF_EXPIRY,
          chain: [{ validTo: LEAF_EXPIRY }, { validTo: INTERMEDIATE_EXPIRY }],
        },
      },
    }),
    options,
  );
  await recorder.record(
    run({
      runId: 'shopout1',
      checkId: 'shop',
      kind: 'http',
      location: 'outside',
      status: 'fail',
      phases: { dns: 1, connect: 3000, total: 3001 },
      error: { class: 'connect_timeout', phase: 'connect', message: 'connect timed out' },
    }),
    options,
  );
  await recorder.record(
    run({
      runId: 'dbin1',
      checkId: 'db-primary',
      kind: 'tcp',
      location: 'inside',
      phases: { connect: 1, total: 4 },
    }),
    options,
  );
  // Two 1000-byte slices over a 1500-byte limit: retention deletes the older by size.
  const store = new FilesystemArtifactStore(artifactDir);
  await store.put('runs/shopout0/capture.pcap', Buffer.alloc(1000), 'application/vnd.tcpdump.pcap');
  await store.put('runs/shopout1/capture.pcap', Buffer.alloc(1000), 'application/vnd.tcpdump.pcap');
  await store.put('runs/shopout1/trace.zip', Buffer.alloc(300), 'application/zip');
  const roomy = { maxAge: 86_400_000, maxBytes: 1e9 };
  retention = new ArtifactRetention(store, {
    captures: { maxAge: 86_400_000, maxBytes: 1500 },
    traces: roomy,
    screenshots: roomy,
    har: roomy,
    bundles: roomy,
    other: roomy,
  } satisfies RetentionLimits);
  retentionPassAt = (await retention.enforce(Date.now() + 1000)).at;
  app = await buildApp({ config, recorder, retention });
});

after(async () => {
  await app?.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(artifactDir, { recursive: true, force: true });
});

/** `name{labels} value` lines as a map from `name{labels}` to value. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    found.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return found;
}

test('/metrics passes promtool check metrics', async (t) => {
  const promtool = promtoolPath();
  if (!promtool) return t.skip('promtool is not installed (scripts/install.sh unpacks it from Debian)');
  const response = await app.inject({ url: '/metrics' });
  assert.equal(response.statusCode, 200);
  const checked = promtoolCheckMetrics(promtool, response.body);
  assert.deepEqual(checked, { status: 0, output: '' }, response.body);
  // The checker is real: a broken exposition fails it.
  assert.notEqual(promtoolCheckMetrics(promtool, 'probe_success{check="x"} 1 2 3\n').status, 0);
});

test('blackbox names carry the latest run of each check and location', async () => {
  const metrics = samples((await app.inject({ url: '/metrics' })).body);
  const at = (key: string) => metrics.get(key);
  assert.equal(at('probe_success{check="shop",location="inside"}'), 1);
  assert.equal(at('probe_success{check="shop",location="outside"}'), 0);
  assert.equal(at('probe_success{check="db-primary",location="inside"}'), 1);
  assert.equal(at('probe_success{check="db-primary",location="outside"}'), undefined, 'no run there yet');
  assert.equal(at('probe_duration_seconds{check="shop",location="outside"}'), 3.001);
  assert.equal(at('probe_http_duration_seconds{check="shop",location="inside",phase="tls"}'), 0.0125);
  assert.equal(at('probe_http_duration_seconds{check="shop",location="inside",phase="processing"}'), 0.04);
  assert.equal(at('probe_http_status_code{check="shop",location="inside"}'), 200);
  assert.equal(
    at('probe_ssl_earliest_cert_expiry{check="shop",location="inside"}'),
    Date.parse(INTERMEDIATE_EXPIRY) / 1000,
    'the earliest expiry in the chain, as blackbox_exporter reports it',
  );
  assert.equal(
    at('pathwatch_phase_duration_seconds{check="db-primary",location="inside",phase="connect"}'),
    0.001,
  );
  assert.equal(
    at('pathwatch_check_state{check="shop",location="outside"}'),
    0,
    'DOWN after one counted failure',
  );
  assert.equal(at('pathwatch_check_state{check="shop",location="inside"}'), 1);
});

test("artifact and retention figures are the last pass's", async () => {
  const metrics = samples((await app.inject({ url: '/metrics' })).body);
  const at = (key: string) => metrics.get(key);
  assert.equal(at('pathwatch_artifacts_bytes{kind="captures"}'), 1000);
  assert.equal(at('pathwatch_artifacts_files{kind="captures"}'), 1);
  assert.equal(at('pathwatch_artifacts_bytes{kind="traces"}'), 300);
  assert.equal(at('pathwatch_artifacts_files{kind="bundles"}'), 0);
  assert.equal(at('pathwatch_artifacts_deleted_total{kind="captures",reason="size"}'), 1);
  assert.equal(at('pathwatch_artifacts_deleted_total{kind="captures",reason="age"}'), 0);
  assert.equal(at('pathwatch_artifacts_deleted_total{kind="traces",reason="size"}'), 0);
  assert.equal(at('pathwatch_retention_undeletable_artifacts'), 0);
  assert.equal(at('pathwatch_retention_last_pass_timestamp_seconds'), retentionPassAt / 1000);
  // A later pass is what the next scrape reads.
  await retention.enforce(Date.now() + 2 * 86_400_000);
  const later = samples((await app.inject({ url: '/metrics' })).body);
  assert.equal(later.get('pathwatch_artifacts_files{kind="captures"}'), 0);
  assert.equal(later.get('pathwatch_artifacts_deleted_total{kind="captures",reason="age"}'), 1);
  assert.equal(later.get('pathwatch_artifacts_deleted_total{kind="traces",reason="age"}'), 1);
});
