import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';

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

test('reports.target: 99.9 by default, 99.95 as written', async () => {
  assert.equal((await parseConfig(base, '/tmp/pathwatch.config.yaml')).settings.reports.target, 99.9);
  const { settings } = await parseConfig(
    { ...base, reports: { target: 99.95 } },
    '/tmp/pathwatch.config.yaml',
  );
  assert.equal(settings.reports.target, 99.95);
});

test('reports.target: 100 (no budget), below 50, a string and unknown keys are problems with their path', async () => {
  const [hundred] = await problems({ reports: { target: 100 } });
  assert.match(
    hundred,
    /^reports\.target: must be below 100 \(%\): a target of 100 leaves no error budget, got 100$/,
  );
  assert.match(
    (await problems({ reports: { target: 12 } }))[0],
    /^reports\.target: must be at least 50 \(%\), got 12$/,
  );
  assert.match(
    (await problems({ reports: { target: '99.9%' } }))[0],
    /^reports\.target: expected a percentage such as 99.95, got "99.9%"$/,
  );
  assert.match((await problems({ reports: { goal: 99 } }))[0], /^reports/);
});
