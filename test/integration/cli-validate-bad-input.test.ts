import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { MALFORMED_CONFIGS } from '../helpers/malformed-configs.ts';
import { type CliResult, runCli } from '../helpers/run-cli.ts';
import { createTempProject } from '../helpers/temp-project.ts';

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

/** validate on a busy 2-core machine takes a few seconds; a hang is killed here and fails. */
const VALIDATE_BOUND_MS = 60_000;

async function validate(dir: string, config: string): Promise<{ result: CliResult; ms: number }> {
  const started = performance.now();
  const result = await runCli(['validate', '--config', join(dir, config)], { timeoutMs: VALIDATE_BOUND_MS });
  return { result, ms: performance.now() - started };
}

/** Exit 1, the problem block on stderr naming the config file, and nothing else: no stack frames. */
function assertProblemBlock(result: CliResult, file: string, expected: RegExp[]): void {
  const shown = `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`;
  assert.equal(result.code, 1, shown);
  assert.equal(result.stdout, '', shown);
  assert.doesNotMatch(result.stderr, /^\s+at /m, `no stack frames\n${shown}`);
  assert.doesNotMatch(result.stderr, /unexpected error/, shown);
  const lines = result.stderr.trimEnd().split('\n');
  assert.match(lines[0], new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `), shown);
  assert.match(lines[0], /\d+ problems?$/, shown);
  for (const line of lines.slice(1)) assert.match(line, /^ {2}\S/, `one line per problem\n${shown}`);
  for (const pattern of expected) assert.match(result.stderr, pattern, shown);
}

test('validate: each malformed config gets its problem lines with paths, exit 1, no stack, bounded time', {
  concurrency: 3,
}, async (t) => {
  await Promise.all(
    MALFORMED_CONFIGS.map((malformed) =>
      t.test(malformed.name, async () => {
        const dir = project(malformed.files);
        const { result } = await validate(dir, malformed.config);
        assertProblemBlock(result, join(dir, malformed.config), malformed.expect);
        for (const secret of malformed.never ?? []) {
          assert.ok(!result.stderr.includes(secret), `${secret} is not printed:\n${result.stderr}`);
        }
      }),
    ),
  );
});

test('validate: a TS config that leaves a setInterval running still exits, with its verdict', async () => {
  const dir = project({
    'pathwatch.config.ts':
      "setInterval(() => {}, 1000);\nexport default { locations: { inside: {} }, checks: [{ id: 'a', kind: 'http', http: { url: 'http://127.0.0.1/' } }] };\n",
  });
  const { result, ms } = await validate(dir, 'pathwatch.config.ts');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /pathwatch\.config\.ts: OK/);
  assert.ok(ms < VALIDATE_BOUND_MS, `exited after ${Math.round(ms)} ms`);
});

test('validate: a journey file that leaves a timer running does not keep validate alive', async () => {
  const dir = project({
    'pathwatch.config.yaml': 'locations: { inside: {} }\njourneys: journeys/*.journey.ts\n',
    'journeys/open.journey.ts': [
      "import { journey } from 'pathwatch';",
      'setInterval(() => {}, 1000);',
      "export default journey({ id: 'open', run: async ({ page }) => { await page.goto('http://127.0.0.1/'); } });",
      '',
    ].join('\n'),
  });
  const { result } = await validate(dir, 'pathwatch.config.yaml');
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /journeys: 1 \(inside 1\)/);
});
