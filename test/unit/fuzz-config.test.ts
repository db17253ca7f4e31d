import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { ConfigError } from '../../src/config/config-error.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { loadJourneys } from '../../src/journeys/load-journeys.ts';
import { runCli } from '../helpers/run-cli.ts';
import { createTempProject } from '../helpers/temp-project.ts';

// A fixed-seed fuzz of `pathwatch validate`: a few hundred malformed configs, each must end
// as a valid config or a problem list (one line per problem, no stack), in bounded time.

const SEED = 0x5eed_c0f1;
const YAML_CASES = 300;
const TS_CASES = 24;
const CLI_SAMPLE = 2;
/** In-process validation of one YAML config; a hang or a quadratic blow-up shows here. */
const YAML_BOUND_MS = 5000;
/** One TS config through the real loader (a worker thread each) on a busy 2-core machine. */
const TS_DEADLINE_MS = 15_000;

/** mulberry32: small, fast, and the same sequence everywhere for one seed. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (below: number) => Math.floor(next() * below);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  return { next, int, pick };
}
type Random = ReturnType<typeof prng>;

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function baseConfig(): Record<string, unknown> {
  return {
    locations: { inside: { description: 'data centre', controlCheck: 'gw' }, outside: { side: 'outside' } },
    defaults: { interval: '30s', timeout: '5s', retries: 1 },
    secretsFile: 'secrets.yaml',
    checks: [
      { id: 'gw', kind: 'tcp', locations: ['inside'], tcp: { host: '127.0.0.1', port: 22 } },
      {
        id: 'shop',
        kind: 'http',
        auth: { bearer: '${env:SHOP_TOKEN}' },
        tls: { caRoots: 'replace', ca: 'ca.pem', verify: true },
        http: {
          url: 'https://127.0.0.1:4601/health',
          headers: { 'x-api-key': '${file:SHOP_KEY}' },
          expect: { status: 200, maxResponseTime: '2s' },
        },
      },
      { id: 'cert', kind: 'tls', tls: { host: '127.0.0.1', port: 443, caRoots: 'replace', ca: 'ca.pem' } },
      { id: 'docs', kind: 'crawl', tags: ['docs', 'eu'], crawl: { url: 'http://127.0.0.1:4601/' } },
    ],
    api: {
      host: '127.0.0.1',
      port: 0,
      tokens: [{ name: 'on-call', hash: `sha256:${'ab'.repeat(32)}`, role: 'operator' }],
    },
    redis: { prefix: 'pw-fuzz' },
    rollupDays: 30,
  };
}

const ODD_STRINGS = [
  '',
  ' ',
  '\u202eevil\u202c',
  'zero\u200bwidth',
  '💥🔥',
  'ｆｕｌｌｗｉｄｔｈ',
  'tab\there',
  'new\nline',
  '${env:}',
  '${vault:KEY}',
  '${env:lower-case}',
  '${file:NOPE}',
  '../../../etc/passwd',
  '%s%n%x',
  'a'.repeat(100_000),
  '10m',
  '-1s',
  '1e999ms',
  'NaN',
  '__proto__',
  'constructor',
];
const ODD_NUMBERS = [0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.5, 65_536, 1e-320, Number.MAX_SAFE_INTEGER];

function oddValue(random: Random): unknown {
  switch (random.int(8)) {
    case 0:
      return random.pick(ODD_STRINGS);
    case 1:
      return random.pick(ODD_NUMBERS);
    case 2:
      return random.pick([true, false, null]);
    case 3:
      return [];
    case 4:
      return {};
    case 5:
      return [random.pick(ODD_STRINGS), random.pick(ODD_NUMBERS)];
    case 6: {
      // Deep nesting: past the depth limit about half the time.
      let value: unknown = 'bottom';
      for (let level = random.int(120); level > 0; level--)
        value = random.next() < 0.5 ? [value] : { k: value };
      return value;
    }
    default:
      return { unexpected: random.pick(ODD_STRINGS) };
  }
}

/** Every path to a value in the tree, so a mutation can land anywhere. */
function pathsIn(value: unknown, path: Array<string | number> = []): Array<Array<string | number>> {
  const paths = [path];
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) paths.push(...pathsIn(item, [...path, index]));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) paths.push(...pathsIn(item, [...path, key]));
  }
  return paths;
}

function mutateTree(config: Record<string, unknown>, random: Random): void {
  const paths = pathsIn(config).filter((path) => path.length > 0);
  for (let count = 1 + random.int(3); count > 0; count--) {
    const path = random.pick(paths);
    const parent = path
      .slice(0, -1)
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)?.[key], config) as
      | Record<string | number, unknown>
      | undefined;
    if (parent === null || typeof parent !== 'object') continue;
    const key = path[path.length - 1];
    switch (random.int(5)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
        break;
      case 1:
        parent[`${key}x`] = parent[key];
        break;
      case 2:
        if (Array.isArray(parent)) parent.push(structuredClone(parent[Number(key)]));
        else parent[key] = oddValue(random);
        break;
      default:
        parent[key] = oddValue(random);
    }
  }
}

const TEXT_SNIPPETS = [
  '*undefinedAlias',
  '&anchor',
  '&self [ *self ]',
  '!!binary aGVsbG8=',
  '!custom tag',
  '<<: *anchor',
  '? complex\n: key',
  '{ unclosed: [',
  ']]]}}}',
  '\t',
  '\u0000',
  '\ufeff',
  '"unterminated',
  "'also unterminated",
  '--- \n--- second document',
  '%YAML 1.1\n---',
  '.inf',
  '-.nan',
  '0x1F',
  '1_000_000',
];

function aliasBomb(levels: number): string {
  const lines = ['bomb0: &b0 ["x","x","x","x","x","x","x","x","x"]'];
  for (let level = 1; level < levels; level++)
    lines.push(
      `bomb${level}: &b${level} [${Array(9)
        .fill(`*b${level - 1}`)
        .join(',')}]`,
    );
  return lines.join('\n');
}

function mutateText(text: string, random: Random): string {
  switch (random.int(6)) {
    case 0:
      return text.slice(0, random.int(text.length));
    case 1: {
      const at = random.int(text.length);
      return `${text.slice(0, at)}${random.pick(TEXT_SNIPPETS)}${text.slice(at)}`;
    }
    case 2: {
      const lines = text.split('\n');
      lines.splice(random.int(lines.length), 1 + random.int(3));
      return lines.join('\n');
    }
    case 3:
      return `${text}\n${aliasBomb(2 + random.int(5))}\n`;
    case 4: {
      // Reuse a value by alias, sometimes before its anchor exists.
      const lines = text.split('\n');
      const at = random.int(lines.length);
      lines[at] = lines[at].replace(/: (\S.*)$/, random.next() < 0.5 ? ': &a $1' : ': *a');
      return lines.join('\n');
    }
    default: {
      const at = random.int(text.length);
      return `${text.slice(0, at)}${'['.repeat(random.int(5000))}${text.slice(at)}`;
    }
  }
}

/** How a TS config can go wrong beyond its data: thrown values, getters, proxies, odd exports. */
const TS_BODIES: Array<(data: string) => string> = [
  (data) => `export default ${data};`,
  (data) => `const config = ${data};\n(config as any).self = config;\nexport default config;`,
  (data) =>
    `const config = ${data};\nObject.defineProperty(config, 'checks', { enumerable: true, get() { throw null; } });\nexport default config;`,
  (data) =>
    `const config = ${data};\nObject.defineProperty(config, 'api', { enumerable: true, get() { throw { toString() { throw new Error('no'); } }; } });\nexport default config;`,
  (data) => `export default new Proxy(${data}, { get() { throw Symbol('trap'); } });`,
  (data) => `export default new Proxy(${data}, { getPrototypeOf() { throw 'proto'; } });`,
  (data) => `export default { ...${data}, rollupDays: 30n };`,
  (data) => `export default { ...${data}, [Symbol('x')]: 1, dataDir: Symbol('d') };`,
  (data) => `export default { ...${data}, defaults: new (class Defaults { interval = '1m' })() };`,
  (data) => `export default Promise.resolve(${data});`,
  () => `export default Promise.reject(undefined);`,
  () => 'export default 42;',
  () => 'export default null;',
  () => 'export default [];',
  () => "export default 'pathwatch';",
  () => 'export const config = {};',
  (data) => `throw ${data};`,
  () => 'throw undefined;',
  (data) => `setTimeout(() => { throw new Error('later'); }, 50);\nexport default ${data};`,
  (data) => `setInterval(() => {}, 10);\nexport default ${data};`,
  (data) => `export default ${data.slice(0, Math.floor(data.length / 2))}`,
  () => "import './missing-module.ts';\nexport default {};",
  (data) => `import { defineConfig } from 'pathwatch';\nexport default defineConfig(${data} as any);`,
  () => 'process.exit(0);',
];

interface Outcome {
  name: string;
  source: string;
  /** Why this outcome breaks the rule, or undefined. */
  failure?: string;
  valid: boolean;
  ms: number;
}

/** The rule: a config, or a ConfigError whose every problem is one short line without a stack. */
function judge(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  if (!(error instanceof ConfigError)) {
    try {
      return `threw ${(error as Error)?.stack ?? String(error)}`;
    } catch {
      return 'threw a value that cannot even be printed';
    }
  }
  if (error.issues.length === 0) return 'ConfigError without problems';
  for (const issue of error.issues) {
    const line = `${issue.path}: ${issue.message}`;
    if (line.includes('\n')) return `a problem spans lines: ${JSON.stringify(line.slice(0, 300))}`;
    if (/\bat .*:\d+:\d+\)?$/.test(line)) return `a problem holds a stack frame: ${line.slice(0, 300)}`;
    if (line.length > 600) return `a problem line is ${line.length} characters long: ${line.slice(0, 700)}`;
  }
  return undefined;
}

/** Validates as `pathwatch validate` does: the config, then its journeys. */
async function validateInProcess(file: string, importDeadlineMs?: number): Promise<unknown> {
  try {
    const config = await loadConfig(
      file,
      { SHOP_TOKEN: 't0k3n', API_TOKEN: 'api-t0k3n' },
      { importDeadlineMs },
    );
    await loadJourneys(config);
    return undefined;
  } catch (error) {
    return error;
  }
}

async function inBatches<T, R>(items: T[], size: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    results.push(...(await Promise.all(items.slice(start, start + size).map(run))));
  }
  return results;
}

function report(failures: Outcome[]): string {
  return failures
    .slice(0, 5)
    .map(
      (outcome) =>
        `${outcome.name} (${Math.round(outcome.ms)} ms): ${outcome.failure}\n--- source ---\n${outcome.source.slice(0, 1500)}`,
    )
    .join('\n\n');
}

test('fuzz: malformed configs end as a config or a problem list, never a stack or a hang', async (t) => {
  const random = prng(SEED);
  const files: Record<string, string> = {
    'ca.pem': PEM,
    'secrets.yaml': 'SHOP_KEY: k3y\n',
  };
  const yamlCases: Array<{ name: string; file: string }> = [];
  for (let index = 0; index < YAML_CASES; index++) {
    const config = baseConfig();
    if (random.next() < 0.7) mutateTree(config, random);
    let text = YAML.stringify(config, { lineWidth: 0 });
    if (random.next() < 0.5) text = mutateText(text, random);
    const name = `yaml-${index}.yaml`;
    files[name] = text;
    yamlCases.push({ name, file: name });
  }
  const tsCases: Array<{ name: string; file: string }> = [];
  for (let index = 0; index < TS_CASES; index++) {
    const config = baseConfig();
    if (random.next() < 0.5) mutateTree(config, random);
    const body = TS_BODIES[index % TS_BODIES.length](JSON.stringify(config));
    const name = `ts-${index}.config.ts`;
    files[name] = `${body}\n`;
    tsCases.push({ name, file: name });
  }
  const dir = createTempProject(files);
  t.after(() => rmSync(dir, { recursive: true, force: true }));

  const outcomes: Outcome[] = [];
  for (const { name, file } of yamlCases) {
    const started = performance.now();
    const error = await validateInProcess(join(dir, file));
    const ms = performance.now() - started;
    const failure = judge(error) ?? (ms > YAML_BOUND_MS ? `took ${Math.round(ms)} ms` : undefined);
    outcomes.push({ name, source: files[file], failure, valid: error === undefined, ms });
  }
  outcomes.push(
    ...(await inBatches(tsCases, 4, async ({ name, file }) => {
      const started = performance.now();
      const error = await validateInProcess(join(dir, file), TS_DEADLINE_MS);
      const ms = performance.now() - started;
      return { name, source: files[file], failure: judge(error), valid: error === undefined, ms };
    })),
  );
  const failures = outcomes.filter((outcome) => outcome.failure);
  assert.equal(
    failures.length,
    0,
    `${failures.length} of ${outcomes.length} broke the rule:\n${report(failures)}`,
  );
  // The fuzz reaches both ends: a generator that only made syntax errors would test little.
  const valid = outcomes.filter((outcome) => outcome.valid).length;
  assert.ok(valid >= 5 && valid <= outcomes.length / 2, `${valid} of ${outcomes.length} are valid`);

  // A sample through the real CLI: exit 0 or 1, and stderr is the problem block, nothing else.
  const sampler = prng(SEED + 1);
  const sample = Array.from({ length: CLI_SAMPLE }, (_unused, index) =>
    index % 2 === 0 ? sampler.pick(yamlCases) : sampler.pick(tsCases),
  );
  await inBatches(sample, 2, async ({ name, file }) => {
    const result = await runCli(['validate', '--config', join(dir, file)], {
      env: { ...process.env, SHOP_TOKEN: 't0k3n', API_TOKEN: 'api-t0k3n', PATHWATCH_LOG_LEVEL: 'silent' },
      timeoutMs: 60_000,
    });
    const shown = `${name}: exit ${result.code}\n${result.stdout}${result.stderr}`;
    assert.ok(result.code === 0 || result.code === 1, shown);
    assert.doesNotMatch(result.stderr, /^\s+at /m, shown);
    if (result.code === 1) {
      const lines = result.stderr.trimEnd().split('\n');
      assert.match(lines[0], /: \d+ problems?$/, shown);
      for (const line of lines.slice(1)) assert.match(line, /^ {2}\S/, shown);
    }
  });
});
