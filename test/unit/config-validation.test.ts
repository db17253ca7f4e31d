import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig, parseConfig } from '../../src/config/load-config.ts';
import { MALFORMED_CONFIGS } from '../helpers/malformed-configs.ts';
import { createTempProject } from '../helpers/temp-project.ts';

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
    assert.match(lines[2], /^checks\[2\]\.http\.url: required/);
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
    checks: [{ id: 'a', kind: 'http', timeout: '10m', http: { url: 'http://127.0.0.1/' } }],
  });
  assert.deepEqual(lines, ['checks[0].timeout: must be at most 2m, got "10m"']);
});

test('secrets must be references, and a missing one is named', async () => {
  const inline = await problems({
    ...base,
    checks: [{ id: 'a', kind: 'http', auth: { bearer: 'hunter2' }, http: { url: 'http://127.0.0.1/' } }],
  });
  assert.equal(inline.length, 1);
  assert.match(inline[0], /^checks\[0\]\.auth.*must be a secret reference such as "\$\{env:NAME\}"/);
  assert.ok(!inline[0].includes('hunter2'), 'the inline secret is not echoed back');
  const missing = await problems({
    ...base,
    checks: [
      { id: 'a', kind: 'http', auth: { bearer: '${env:SHOP_TOKEN}' }, http: { url: 'http://127.0.0.1/' } },
    ],
  });
  assert.deepEqual(missing, [
    'checks[0].auth.bearer: secret ${env:SHOP_TOKEN}: environment variable SHOP_TOKEN is not set',
  ]);
  assert.deepEqual(
    await problems(
      {
        ...base,
        checks: [
          {
            id: 'a',
            kind: 'http',
            auth: { bearer: '${env:SHOP_TOKEN}' },
            http: { url: 'http://127.0.0.1/' },
          },
        ],
      },
      { SHOP_TOKEN: 'x7Q' },
    ),
    [],
  );
  // A value too short to mask would be shown unmasked everywhere: refused, never echoed.
  const short = await problems(
    {
      ...base,
      checks: [
        { id: 'a', kind: 'http', auth: { bearer: '${env:SHOP_TOKEN}' }, http: { url: 'http://127.0.0.1/' } },
      ],
    },
    { SHOP_TOKEN: 'x7' },
  );
  assert.deepEqual(short, [
    'checks[0].auth.bearer: secret ${env:SHOP_TOKEN}: shorter than 3 characters, too short to be masked in results and logs; use a longer value',
  ]);
});

test('duplicate ids, undeclared default locations and unknown subject placeholders are reported together', async () => {
  const lines = await problems({
    locations: { inside: {} },
    defaults: { locations: ['outside'] },
    checks: [
      { id: 'a', kind: 'http', http: { url: 'http://127.0.0.1/' } },
      { id: 'a', kind: 'http', http: { url: 'http://127.0.0.1/x' } },
    ],
    alerting: {
      smtp: { host: 'localhost' },
      from: 'pw@example.test',
      to: ['ops@example.test'],
      subject: '{{check}} {{statee}}',
    },
  });
  assert.deepEqual(lines, [
    'alerting.subject: unknown variable {{statee}}, expected one of {{check}}, {{checkId}}, {{state}}, {{verdict}}, {{locations}}, {{location}}, {{step}}, {{error}}, {{code}}, {{time}}, {{kind}}',
    'checks[1].id: duplicate id "a", already used by checks[0]',
    'defaults.locations[0]: location "outside" is not declared in locations (declared: inside)',
  ]);
});

test('alerting: bad subject templates, unknown lists, undeclared route locations and a webhook secret in clear are reported together, each with its path', async () => {
  const lines = await problems({
    locations: { inside: {} },
    checks: [
      { id: 'a', kind: 'http', alertSubject: '{{#step}}step {{step}}', http: { url: 'http://127.0.0.1/' } },
    ],
    maintenance: [{ name: 'x', cron: '0 2 * *', duration: '1h' }],
    alerting: {
      from: 'pw@example.test',
      to: ['ops@example.test'],
      subject: '{{check}} {{/state}} }}',
      lists: { hooks: { webhook: { url: 'http://127.0.0.1:9/hook', secret: 'in-clear' } }, empty: {} },
      routes: [{ locations: ['outsid'], notify: ['hooks', 'nobody'], subject: '{{}}' }],
      escalation: { after: '10m', notify: ['managers'] },
    },
  });
  assert.deepEqual(lines, [
    'alerting.escalation.notify[0]: no recipient list "managers" (lists: hooks, empty, default)',
    'alerting.lists.empty: a list needs `to` (mail recipients), `webhook`, or both',
    'alerting.lists.hooks.webhook.secret: must be a secret reference such as "${env:NAME}" or "${file:NAME}", not an inline value',
    'alerting.routes[0].locations[0]: location "outsid" is not declared in locations (declared: inside)',
    'alerting.routes[0].notify[1]: no recipient list "nobody" (lists: hooks, empty, default)',
    'alerting.routes[0].subject: empty {{}} at character 1',
    'alerting.smtp: required: a list has mail recipients',
    'alerting.subject: {{/state}} closes nothing; "}}" without its other half in " }}"',
    'checks[0].alertSubject: {{#step}} is never closed with {{/step}}',
    'maintenance[0].cron: expected a 5-field cron expression (minute hour day-of-month month day-of-week) such as "0 2 * * SUN", got "0 2 * *" (4 fields)',
  ]);
});

test('alerting: no default list and no route that catches every alert, or a login without a password, is a problem before anything is lost', async () => {
  const lines = await problems({
    locations: { inside: {} },
    checks: [{ id: 'a', kind: 'http', http: { url: 'http://127.0.0.1/' } }],
    alerting: {
      smtp: { host: '127.0.0.1', user: 'pathwatch' },
      from: 'pw@example.test',
      lists: { pay: { to: ['pay@example.test'] } },
      routes: [{ tags: ['payments'], notify: ['pay'] }],
    },
  });
  assert.deepEqual(lines, [
    'alerting.smtp.password: required with smtp.user, expected a secret reference',
    'alerting.to: required unless a route without checks, tags or locations catches every alert, expected mail recipients',
  ]);
});

test('defaults fill in interval, timeout and locations', async () => {
  const config = await parseConfig(
    {
      ...base,
      defaults: { interval: '30s', timeout: '5s' },
      checks: [
        { id: 'a', kind: 'http', http: { url: 'http://127.0.0.1/' } },
        { id: 'b', kind: 'http', interval: '2m', locations: ['outside'], http: { url: 'http://127.0.0.1/' } },
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
    'locations:\n  inside: {}\ndefaults:\n  interval: 15s\nchecks:\n  - id: shop\n    kind: http\n    http:\n      url: http://127.0.0.1:4601/health\n      expect:\n        status: 200\n',
  );
  const tsFile = join(dir, 'pathwatch.config.ts');
  writeFileSync(
    tsFile,
    `import { defineConfig } from 'pathwatch';\nexport default defineConfig({ locations: { inside: {} }, defaults: { interval: '15s' }, checks: [{ id: 'shop', kind: 'http', http: { url: 'http://127.0.0.1:4601/health', expect: { status: 200 } } }] });\n`,
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

const projects: string[] = [];
after(() => {
  for (const dir of projects) rmSync(dir, { recursive: true, force: true });
});

/** A throw-away project, removed when the file's tests end. */
function project(files: Record<string, string>): string {
  const dir = createTempProject(files);
  projects.push(dir);
  return dir;
}

/** The problem lines of a config that must not load; fails if it loads. */
async function loadProblems(file: string, options: Parameters<typeof loadConfig>[2] = {}): Promise<string[]> {
  try {
    await loadConfig(file, {}, options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${(error as Error)?.stack ?? error}`);
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  assert.fail(`${file} loaded`);
}

test('a TS config that never finishes loading is a problem once its deadline passes, and nothing keeps running', async () => {
  const dir = project({
    'loop.config.ts': 'while (true) {}\nexport default {};\n',
    'await.config.ts':
      'await new Promise((resolve) => setTimeout(resolve, 3_600_000));\nexport default {};\n',
    'never.config.ts': 'await new Promise(() => {});\nexport default {};\n',
    'exit.config.ts': 'process.exit(3);\nexport default {};\n',
  });
  // Short enough for a test, long enough for a worker thread to start on a busy machine.
  const deadline = { importDeadlineMs: 8000 };
  const timedOut =
    ': did not finish loading within 8 s (an endless loop, or a top-level await that never settles?)';
  const [loop, wait, never, exit] = await Promise.all([
    loadProblems(join(dir, 'loop.config.ts'), deadline),
    loadProblems(join(dir, 'await.config.ts'), deadline),
    loadProblems(join(dir, 'never.config.ts'), deadline),
    loadProblems(join(dir, 'exit.config.ts'), { importDeadlineMs: 60_000 }),
  ]);
  assert.deepEqual(loop, [timedOut]);
  assert.deepEqual(wait, [timedOut]);
  // The thread either runs out of work or waits out the deadline (when a loader hook keeps it alive).
  assert.match(
    never[0],
    /^: (stopped while loading, before exporting a config \(a top-level await that nothing settles\?\)|did not finish loading within 8 s)/,
  );
  assert.deepEqual(exit, [': stopped while loading, before exporting a config (process.exit(3)?)']);
});

test('values that are not plain data are problems with their paths, before any schema runs', async () => {
  class Settings {
    interval = '10s';
  }
  const nested: Record<string, unknown> = {};
  let deepest = nested;
  for (let level = 0; level < 100; level++) {
    deepest.next = {};
    deepest = deepest.next as Record<string, unknown>;
  }
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const lines = await problems({
    ...base,
    defaults: new Settings(),
    dataDir: new Date(0),
    journeys: [/x/],
    alerting: new Map(),
    api: { host: Symbol('h') },
    redis: revoked.proxy,
    workers: nested,
  });
  const deep = lines.pop();
  // The path is cut at 200 characters: one readable line.
  assert.match(deep ?? '', /^workers(\.next)+\.n?…: nested deeper than 64 levels$/);
  assert.deepEqual(lines, [
    'defaults: expected plain data, got an instance of Settings; write an object literal',
    'dataDir: expected plain data, got a Date; write it as a string',
    'journeys[0]: expected plain data, got a RegExp; write its source as a string, e.g. "^/docs/"',
    'alerting: expected plain data, got a Map; write an object',
    'api.host: expected plain data, got a symbol (h)',
    "redis: could not be read: TypeError: Cannot perform 'IsArray' on a proxy that has been revoked",
  ]);
});

test('a "__proto__" key stays a key and does not change any prototype', async () => {
  const dir = project({
    'pathwatch.config.yaml': 'locations: { inside: {} }\n__proto__: { polluted: true }\n',
  });
  assert.deepEqual(await loadProblems(join(dir, 'pathwatch.config.yaml')), [
    '__proto__: unknown key "__proto__"',
  ]);
  assert.equal(({} as { polluted?: boolean }).polluted, undefined);
});

test('a config that reuses one anchor in 150 checks is valid: only alias bombs are refused', async () => {
  const lines = ['locations: { inside: {} }', 'checks:'];
  lines.push('  - { id: c0, kind: http, http: { url: "http://127.0.0.1/" }, tags: &tags [shop, eu] }');
  for (let index = 1; index < 150; index++)
    lines.push(`  - { id: c${index}, kind: http, http: { url: "http://127.0.0.1/" }, tags: *tags }`);
  const dir = project({ 'pathwatch.config.yaml': `${lines.join('\n')}\n` });
  const config = await loadConfig(join(dir, 'pathwatch.config.yaml'), {});
  assert.equal(config.checks.length, 150);
  assert.deepEqual(config.checks[149].tags, ['shop', 'eu']);
});

test('every malformed config of the CLI test is a ConfigError in process too', async () => {
  const cases = MALFORMED_CONFIGS.filter((malformed) => !malformed.name.includes('journeys glob'));
  await Promise.all(
    cases.map(async (malformed) => {
      const dir = project(malformed.files);
      const lines = (await loadProblems(join(dir, malformed.config))).map(
        (line) => `  ${line.replace(/^: /, '')}`,
      );
      for (const pattern of malformed.expect) {
        assert.ok(
          lines.some((line) => pattern.test(line)),
          `${malformed.name}: ${pattern} in\n${lines.join('\n')}`,
        );
      }
    }),
  );
});

test('a config in the old flat shape gets one line per moved key saying where it goes now', async () => {
  const lines = await problems(
    {
      ...base,
      checks: [
        {
          id: 'home',
          kind: 'http',
          url: 'https://shop.example/',
          method: 'GET',
          auth: { basic: { username: 'bob', password: '${env:PW}' } },
          tls: { ca: 'ca.pem' },
          expect: { status: 200, certDaysLeft: 10 },
        },
        { id: 'imaps', kind: 'tcp', host: 'mail.example', port: 993, tls: {} },
        { id: 'cert', kind: 'tls', host: 'shop.example', warnDays: 20 },
        { id: 'mail', kind: 'smtp', host: 'mail.example', tls: 'implicit', certificate: { verify: false } },
        {
          id: 'files',
          kind: 'ftp',
          host: 'files.example',
          secure: 'explicit',
          username: 'u',
          password: '${env:PW}',
        },
        { id: 'ns', kind: 'dns', server: '10.0.0.53', query: 'shop.example' },
        { id: 'docs', kind: 'crawl', url: 'https://shop.example/docs', maxDepth: 2 },
        { id: 'gw', kind: 'ping', host: '10.0.0.1', interval: '200ms', count: 5, timeout: '5s' },
        // New shape with one key left behind: only that key is named.
        { id: 'api', kind: 'http', http: { url: 'https://shop.example/api' }, headers: { a: 'b' } },
      ],
    },
    { PW: 'long-enough-pw' },
  );
  assert.deepEqual(lines, [
    'checks[0].auth.basic: moved: write it as checks[0].auth (username, password)',
    'checks[0].expect: moved: write it as checks[0].http.expect',
    'checks[0].expect.certDaysLeft: moved: write it as checks[0].tls.failDays',
    'checks[0].method: moved: write it as checks[0].http.method',
    'checks[0].tls.caRoots: required with ca: "add" (trust the system CAs and ca) or "replace" (trust only ca)',
    'checks[0].url: moved: write it as checks[0].http.url',
    'checks[1].host: moved: write it as checks[1].tcp.host',
    'checks[1].port: moved: write it as checks[1].tcp.port',
    'checks[1].tls: moved: write it as checks[1].tcp.tls: true (serverName, verify and ca stay in tls)',
    'checks[2].host: moved: write it as checks[2].tls.host',
    'checks[2].warnDays: moved: write it as checks[2].tls.warnDays',
    'checks[3].certificate: moved: write it as checks[3].tls',
    'checks[3].host: moved: write it as checks[3].smtp.host',
    'checks[3].tls: moved: write it as checks[3].smtp.tls',
    'checks[4].host: moved: write it as checks[4].ftp.host',
    'checks[4].password: moved: write it as checks[4].auth.password',
    'checks[4].secure: moved: write it as checks[4].ftp.secure',
    'checks[4].username: moved: write it as checks[4].auth.username',
    'checks[5].query: moved: write it as checks[5].dns.query',
    'checks[5].server: moved: write it as checks[5].dns.server',
    'checks[6].maxDepth: moved: write it as checks[6].crawl.maxDepth',
    'checks[6].url: moved: write it as checks[6].crawl.url',
    'checks[7].count: moved: write it as checks[7].ping.count',
    'checks[7].host: moved: write it as checks[7].ping.host',
    'checks[7].interval: moved: write it as checks[7].ping.interval',
    'checks[8].headers: moved: write it as checks[8].http.headers',
  ]);
});
