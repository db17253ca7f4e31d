import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { RetentionSchedule } from '../../src/artifacts/retention-schedule.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { createLogger } from '../../src/util/logger.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * The Grafana dashboard in deploy/grafana queries only what /metrics serves: every metric
 * name in every panel and variable, and every label a legend or variable names, is read
 * from a real /metrics answer, so a renamed metric fails here instead of leaving an empty
 * panel.
 */
const DASHBOARD = new URL('../../deploy/grafana/pathwatch-dashboard.json', import.meta.url);
const prefix = uniquePrefix('grafana');
const dir = mkdtempSync(join(tmpdir(), 'pw-grafana-'));
let redis: Redis;
/** Metric names /metrics serves, each with the label names its samples carry. */
const served = new Map<string, Set<string>>();

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: [{ id: 'shop', kind: 'http', http: { url: 'https://127.0.0.1:4601/' } }],
      redis: { prefix },
    },
    join(dir, 'pathwatch.yaml'),
  );
  const recorder = new ResultsRecorder(redis, config);
  await recorder.record(
    {
      runId: 'shopin1',
      checkId: 'shop',
      kind: 'http',
      location: 'inside',
      startedAt: Date.now() - 1000,
      finishedAt: Date.now() - 900,
      attempt: 1,
      status: 'pass',
      phases: { dns: 2, connect: 3, tls: 12, firstByte: 40, download: 3, total: 60 },
      peers: [],
      details: { statusCode: 200, certificate: { validTo: '2027-03-01T00:00:00.000Z' } },
    },
    { counted: true, policy: { downAfter: 1, upAfter: 1 }, locations: ['inside', 'outside'] },
  );
  const artifacts = new FilesystemArtifactStore(join(dir, 'artifacts'));
  await artifacts.put('runs/shopin1/capture.pcap', Buffer.alloc(100), 'application/vnd.tcpdump.pcap');
  const schedule = new RetentionSchedule(
    artifacts,
    config.settings.retention,
    createLogger('test', 'silent'),
  );
  await schedule.retention.enforce();
  const app = await buildApp({ config, recorder, artifacts, retention: schedule.retention });
  const body = (await app.inject({ url: '/metrics' })).body;
  await app.close();
  for (const line of body.split('\n')) {
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const labels = served.get(sample[1]) ?? new Set<string>();
    for (const pair of (sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) labels.add(pair[1]);
    served.set(sample[1], labels);
  }
});

after(async () => {
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'bool', 'offset']);

/** The metric names a PromQL expression reads: what is left once strings, matchers, ranges, label lists and function calls are set aside. */
function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  return [...bare.matchAll(/(?<![\w$.:])([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)]
    .map((match) => match[1])
    .filter((name) => !PROMQL_WORDS.has(name));
}

interface Target {
  expr: string;
  legendFormat?: string;
}
interface Panel {
  title: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: string | { query: string } }> };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const targets = panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title, ...target })),
);

test('the name extraction finds the metrics, and only them', () => {
  assert.deepEqual(
    metricNamesOf('sum by (kind, reason) (increase(pathwatch_artifacts_deleted_total{kind=~"$kind"}[1h]))'),
    ['pathwatch_artifacts_deleted_total'],
  );
  assert.deepEqual(metricNamesOf('(probe_ssl_earliest_cert_expiry{check="a"} - time()) / 86400'), [
    'probe_ssl_earliest_cert_expiry',
  ]);
  assert.deepEqual(metricNamesOf('probe_success and on (check) pathwatch_check_state offset 5m'), [
    'probe_success',
    'pathwatch_check_state',
  ]);
});

test('every metric a panel queries is one /metrics serves, and so is every label its legend names', () => {
  assert.ok(targets.length >= 10, `the dashboard has ${targets.length} queries`);
  for (const target of targets) {
    const names = metricNamesOf(target.expr);
    assert.ok(names.length > 0, `${target.panel}: no metric in ${target.expr}`);
    for (const name of names)
      assert.ok(served.has(name), `${target.panel}: ${name} is not served by /metrics (${target.expr})`);
    const labels = new Set(names.flatMap((name) => [...(served.get(name) ?? [])]));
    for (const match of (target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g))
      assert.ok(
        labels.has(match[1]),
        `${target.panel}: legend label ${match[1]} is on none of ${names.join(', ')}`,
      );
  }
});

test('variables read served metrics and labels', () => {
  const queries = dashboard.templating.list.filter((variable) => variable.type === 'query');
  assert.ok(queries.length >= 2);
  for (const variable of queries) {
    const query = typeof variable.query === 'string' ? variable.query : (variable.query?.query ?? '');
    const match = /^label_values\((\w+),\s*(\w+)\)$/.exec(query);
    assert.ok(match, `${variable.name}: ${query}`);
    assert.ok(
      served.get(match[1])?.has(match[2]),
      `${variable.name}: ${match[1]} has no label ${match[2]} on /metrics`,
    );
  }
});

test('the dashboard shows the blackbox names, missed slots and the artifact store', () => {
  const queried = new Set(targets.flatMap((target) => metricNamesOf(target.expr)));
  for (const name of [
    'probe_success',
    'probe_duration_seconds',
    'probe_http_duration_seconds',
    'probe_ssl_earliest_cert_expiry',
    'pathwatch_missed_slots_total',
    'pathwatch_artifacts_bytes',
    'pathwatch_artifacts_files',
    'pathwatch_artifacts_deleted_total',
    'pathwatch_retention_last_pass_timestamp_seconds',
  ])
    assert.ok(queried.has(name), `no panel queries ${name}`);
  const phases = targets.find((target) => metricNamesOf(target.expr).includes('probe_http_duration_seconds'));
  assert.match(phases?.legendFormat ?? '', /\{\{phase\}\}/, 'HTTP durations are shown by phase');
});
