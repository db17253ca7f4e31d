import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig, parseConfig } from '../../src/config/load-config.ts';

const fixture = (name: string) => new URL(`../fixtures/config/${name}`, import.meta.url).pathname;

async function problems(raw: unknown, env: Record<string, string> = {}): Promise<string[]> {
  try {
    await parseConfig(raw, '/tmp/pathwatch.config.yaml', env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  return [];
}

const base = { locations: { inside: {}, outside: {} } };

test('five different mistakes are all reported at once, each with its path', async () => {
  await assert.rejects(loadConfig(fixture('five-mistakes.yaml')), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    const lines = error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    assert.equal(lines.length, 5, lines.join('\n'));
    assert.match(
      lines[0],
      /^checks\[0\]\.kind: unknown kind "htp", expected one of .*http.* \(did you mean "http"\?\)/,
    );
    assert.match(lines[1], /^checks\[1\]\.interval: expected a duration .* got "30 seconds"/);
    assert.match(lines[2], /^checks\[2\]\.url: required/);
    assert.match(lines[3], /^checks\[3\]\.intervall: unknown key "intervall", did you mean "interval"\?/);
    assert.match(
      lines[4],
      /^checks\[4\]\.locations\[1\]: location "outsid" is not declared .*did you mean "outside"\?/,
    );
    return true;
  });
});

test('a timeout over the limit names the limit and the value', async () => {
  const lines = await problems({
    ...base,
    checks: [{ id: 'a', kind: 'http', url: 'http://127.0.0.1/', timeout: '10m' }],
  });
  assert.deepEqual(lines, ['checks[0].timeout: must be at most 2m, got "10m"']);
});

test('secrets must be references, and a missing one is named', async () => {
  const inline = await problems({
    ...base,
    checks: [{ id: 'a', kind: 'http', url: 'http://127.0.0.1/', auth: { bearer: 'hunter2' } }],
  });
  assert.equal(inline.length, 1);
  assert.match(inline[0], /^checks\[0\]\.auth.*must be a secret reference such as "\$\{env:NAME\}"/);
  assert.ok(!inline[0].includes('hunter2'), 'the inline secret is not echoed back');
  const missing = await problems({
    ...base,
    checks: [{ id: 'a', kind: 'http', url: 'http://127.0.0.1/', auth: { bearer: '${env:SHOP_TOKEN}' } }],
  });
  assert.deepEqual(missing, [
    'checks[0].auth.bearer: secret ${env:SHOP_TOKEN}: environment variable SHOP_TOKEN is not set',
  ]);
  assert.deepEqual(
    await problems(
      {
        ...base,
        checks: [{ id: 'a', kind: 'http', url: 'http://127.0.0.1/', auth: { bearer: '${env:SHOP_TOKEN}' } }],
      },
      { SHOP_TOKEN: 'x' },
    ),
    [],
  );
});

test('duplicate ids, undeclared default locations and unknown subject placeholders are reported together', async () => {
  const lines = await problems({
    locations: { inside: {} },
    defaults: { locations: ['outside'] },
    checks: [
      { id: 'a', kind: 'http', url: 'http://127.0.0.1/' },
      { id: 'a', kind: 'http', url: 'http://127.0.0.1/x' },
    ],
    alerting: {
      smtp: { host: 'localhost' },
      from: 'pw@example.test',
      to: ['ops@example.test'],
      subject: '{{check}} {{statee}}',
    },
  });
  assert.deepEqual(lines, [
    'alerting.subject: unknown placeholder {{statee}}, expected one of {{check}}, {{checkId}}, {{state}}, {{location}}, {{verdict}}, {{error}}, {{kind}}',
    'checks[1].id: duplicate id "a", already used by checks[0]',
    'defaults.locations[0]: location "outside" is not declared in locations (declared: inside)',
  ]);
});

test('defaults fill in interval, timeout and locations', async () => {
  const config = await parseConfig(
    {
      ...base,
      defaults: { interval: '30s', timeout: '5s' },
      checks: [
        { id: 'a', kind: 'http', url: 'http://127.0.0.1/' },
        { id: 'b', kind: 'http', url: 'http://127.0.0.1/', interval: '2m', locations: ['outside'] },
      ],
    },
    '/tmp/x.yaml',
  );
  assert.deepEqual(
    config.checks.map((check) => [check.id, check.interval, check.timeout, check.locations]),
    [
      ['a', 30_000, 5000, ['inside', 'outside']],
      ['b', 120_000, 5000, ['outside']],
    ],
  );
});

test('the same config as TypeScript and as YAML loads to the same checks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-config-'));
  const yamlFile = join(dir, 'pathwatch.config.yaml');
  writeFileSync(
    yamlFile,
    'locations:\n  inside: {}\ndefaults:\n  interval: 15s\nchecks:\n  - id: shop\n    kind: http\n    url: http://127.0.0.1:4601/health\n    expect:\n      status: 200\n',
  );
  const tsFile = join(dir, 'pathwatch.config.ts');
  writeFileSync(
    tsFile,
    `import { defineConfig } from 'pathwatch';\nexport default defineConfig({ locations: { inside: {} }, defaults: { interval: '15s' }, checks: [{ id: 'shop', kind: 'http', url: 'http://127.0.0.1:4601/health', expect: { status: 200 } }] });\n`,
  );
  // The TS file imports 'pathwatch' by name; resolve it from this repo.
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  const { symlinkSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(new URL('../..', import.meta.url).pathname, join(dir, 'node_modules', 'pathwatch'));
  const fromYaml = await loadConfig(yamlFile);
  const fromTs = await loadConfig(tsFile);
  assert.deepEqual(fromTs.checks, fromYaml.checks);
});

test('a YAML syntax error names the line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pathwatch-config-'));
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'locations:\n  inside: {}\nchecks:\n  - id: [unclosed\n');
  await assert.rejects(loadConfig(file), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.issues[0].path, /^line \d+, column \d+$/);
    return true;
  });
});
