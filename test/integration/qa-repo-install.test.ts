import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type DemoShop, startDemoShop } from '../../src/demo-shop/demo-shop.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { REPO_ROOT, runCommand } from '../helpers/run-cli.ts';

// A QA team's own repository, as issue 16 found it: pathwatch installed from `npm pack`
// output, journeys type-checked under the repository's tsconfig (no allowImportingTsExtensions,
// strict, no skipLibCheck) and run by the installed `pathwatch` bin, in a CommonJS and an ESM
// package. One install serves every variant (node_modules is linked into the others).

/** Runs a command in a QA repository (npm, tsc, the installed pathwatch bin). */
const run = (command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000) =>
  runCommand(command, args, { cwd, env, timeoutMs });

const versionOf = (name: string) =>
  (
    JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

const TYPED_JOURNEY = `import { journey } from 'pathwatch';

export default journey({
  id: 'shop-login',
  timeout: '30s',
  params: { shopUrl: process.env.SHOP_URL ?? 'http://127.0.0.1:4601' },
  async run({ page, step, expect, params }) {
    await step('open shop', async () => {
      await page.goto(params.shopUrl);
      await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    });
    await step('open login', async () => {
      await page.getByRole('link', { name: 'Log in' }).click();
      await expect(page.getByLabel('Username')).toBeVisible();
    });
  },
});
`;

const TSCONFIG = JSON.stringify({
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    types: ['node'],
  },
  include: ['journeys'],
});

let shop: DemoShop;
let work: string;
let skipReason: string | undefined;
let env: NodeJS.ProcessEnv;

function qaRepo(name: string, packageJson: object): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'journeys'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
  return dir;
}

const tsc = (dir: string, ...args: string[]) =>
  run(
    process.execPath,
    [join(dir, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', '.', ...args],
    dir,
    env,
  );
const pathwatch = (dir: string, ...args: string[]) =>
  run(process.execPath, [join(dir, 'node_modules/pathwatch/bin/pathwatch.js'), ...args], dir, env, 90_000);

before(async () => {
  shop = await startDemoShop();
  work = mkdtempSync(join(tmpdir(), 'pathwatch-qa-repo-'));
  env = {
    ...process.env,
    SHOP_URL: shop.url,
    PATHWATCH_EXTRA_BROWSER_ARGS: LOOPBACK_ONLY_CHROMIUM_ARGS.join('\n'),
    PATHWATCH_LOG_LEVEL: 'silent',
  };
  // A failing pack is pathwatch's own fault (prepack builds the declarations): not a skip.
  const packed = await run('npm', ['pack', '--pack-destination', work], REPO_ROOT, env, 120_000);
  assert.equal(packed.code, 0, `npm pack failed:\n${packed.stdout}${packed.stderr}`);
  const tarball = join(work, packed.stdout.trim().split('\n').at(-1) ?? '');
  assert.ok(existsSync(tarball), `npm pack printed no tarball name:\n${packed.stdout}`);
  const cjs = qaRepo('qa-cjs', { name: 'qa-cjs', private: true });
  const installed = await run(
    'npm',
    [
      'install',
      '--save-dev',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      '--ignore-scripts',
      tarball,
      `typescript@${versionOf('typescript')}`,
      `@types/node@${versionOf('@types/node')}`,
    ],
    cjs,
    env,
    180_000,
  );
  if (installed.code !== 0) {
    // Only a registry this machine cannot reach is a reason to skip; anything else fails.
    if (/ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ENETUNREACH|ECONNRESET/.test(installed.stderr))
      skipReason = `npm install cannot reach the registry here: ${installed.stderr.trim().split('\n').at(-1)}`;
    else assert.fail(`npm install of the packed tarball failed:\n${installed.stderr}`);
  }
});

after(async () => {
  await shop?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A QA repo beside qa-cjs, sharing its node_modules (the one install). */
function linkedRepo(name: string, packageJson: object | undefined): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  if (packageJson) writeFileSync(join(dir, 'package.json'), JSON.stringify(packageJson));
  symlinkSync(join(work, 'qa-cjs', 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

test('the tarball holds the sources, the bin and the API declarations, and no tests', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const installed = join(work, 'qa-cjs', 'node_modules', 'pathwatch');
  for (const file of ['bin/pathwatch.js', 'src/index.ts', 'workers/cli.ts', 'types/index.d.ts'])
    assert.ok(existsSync(join(installed, file)), `${file} missing from the package`);
  for (const folder of ['test', 'bench', 'journeys', 'deploy'])
    assert.ok(!existsSync(join(installed, folder)), `${folder}/ should not be in the package`);
  // Only the public API is declared, so a consumer never type-checks pathwatch's internals.
  assert.ok(!existsSync(join(installed, 'types', 'capture')), 'internal declarations shipped');
});

for (const variant of [
  { name: 'CommonJS', dir: 'qa-cjs', packageJson: { name: 'qa-cjs', private: true } },
  { name: 'ESM', dir: 'qa-esm', packageJson: { name: 'qa-esm', private: true, type: 'module' } },
]) {
  test(`${variant.name} QA repo: a typed journey passes tsc --noEmit and pathwatch run`, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const dir =
      variant.dir === 'qa-cjs' ? join(work, 'qa-cjs') : linkedRepo(variant.dir, variant.packageJson);
    mkdirSync(join(dir, 'journeys'), { recursive: true });
    writeFileSync(join(dir, 'tsconfig.json'), TSCONFIG);
    writeFileSync(join(dir, 'journeys', 'shop.journey.ts'), TYPED_JOURNEY);

    const checked = await tsc(dir, '--listFiles');
    assert.equal(checked.code, 0, `tsc failed:\n${checked.stdout}${checked.stderr}`);
    const fromPathwatch = checked.stdout
      .split('\n')
      .filter((file) => file.includes('/node_modules/pathwatch/'));
    assert.ok(fromPathwatch.length > 0, 'the journey was not checked against pathwatch at all');
    assert.deepEqual(
      fromPathwatch.filter((file) => !file.includes('/node_modules/pathwatch/types/')),
      [],
      'tsc read pathwatch sources, not its declarations',
    );
    if (variant.dir === 'qa-esm') {
      const bundler = await tsc(dir, '--module', 'preserve', '--moduleResolution', 'bundler');
      assert.equal(bundler.code, 0, `tsc (bundler) failed:\n${bundler.stdout}`);
    }
    // The types are real: a wrong option is an error in the journey, nowhere else.
    writeFileSync(
      join(dir, 'journeys', 'wrong.journey.ts'),
      TYPED_JOURNEY.replace("timeout: '30s'", 'timeout: 30'),
    );
    const wrong = await tsc(dir);
    rmSync(join(dir, 'journeys', 'wrong.journey.ts'));
    assert.notEqual(wrong.code, 0, wrong.stdout);
    assert.match(wrong.stdout, /^journeys\/wrong\.journey\.ts\(5,3\): error TS2322: /m);
    assert.doesNotMatch(wrong.stdout, /node_modules/);

    const ran = await pathwatch(dir, 'run', 'journeys/shop.journey.ts');
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /^shop-login \(journey\) at local: journeys\/shop\.journey\.ts$/m);
    assert.match(ran.stdout, /^ {2}ok {3}2 open login /m);
    assert.match(ran.stdout, /^PASS in /m);
  });
}

test('CommonJS journeys load in either form; a malformed export is one line naming the file', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const dir = join(work, 'qa-cjs');
  // What a hand-written CommonJS journey looks like: require and module.exports.
  writeFileSync(
    join(dir, 'journeys', 'required.journey.ts'),
    "const { journey } = require('pathwatch');\nmodule.exports = journey({ id: 'required', async run() {} });\n",
  );
  // TypeScript's CommonJS emit of `export default`, written out: `{ default: { default: … } }`.
  writeFileSync(
    join(dir, 'journeys', 'emitted.journey.js'),
    "Object.defineProperty(exports, '__esModule', { value: true });\nexports.default = { id: 'emitted', async run() {} };\n",
  );
  writeFileSync(
    join(dir, 'journeys', 'no-run.journey.ts'),
    "import { journey } from 'pathwatch';\n// @ts-expect-error run is missing\nexport default journey({ id: 'no-run' });\n",
  );
  writeFileSync(join(dir, 'journeys', 'number.journey.js'), 'exports.default = 42;\n');
  try {
    // Both good forms at once: validate loads every journey the glob matches.
    writeFileSync(
      join(dir, 'pathwatch.config.ts'),
      "import { defineConfig } from 'pathwatch';\nexport default defineConfig({ locations: { local: {} }, journeys: 'journeys/{required,emitted}.journey.*' });\n",
    );
    const validated = await pathwatch(dir, 'validate');
    assert.equal(validated.code, 0, validated.stdout + validated.stderr);
    assert.match(validated.stdout, /^ {2}journeys: 2 /m);
    const noRun = await pathwatch(dir, 'run', 'journeys/no-run.journey.ts');
    assert.equal(noRun.code, 2, noRun.stdout + noRun.stderr);
    assert.equal(
      noRun.stderr.trim(),
      'journeys/no-run.journey.ts: run: required, expected an async function run({ page, step, expect, … })',
    );
    const number = await pathwatch(dir, 'run', 'journeys/number.journey.js');
    assert.equal(number.code, 2, number.stdout + number.stderr);
    assert.equal(number.stderr.trim().split('\n').length, 1, number.stderr);
    assert.match(
      number.stderr,
      /^journeys\/number\.journey\.js: exports no journey; write `export default journey\(.*module\.exports = journey\(/,
    );
    assert.doesNotMatch(noRun.stderr + number.stderr, /unknown key "default"/);
  } finally {
    for (const file of [
      'required.journey.ts',
      'emitted.journey.js',
      'no-run.journey.ts',
      'number.journey.js',
    ])
      rmSync(join(dir, 'journeys', file));
    rmSync(join(dir, 'pathwatch.config.ts'));
  }
});

for (const variant of [
  { name: 'an empty folder (CommonJS)', dir: 'init-empty', packageJson: undefined },
  {
    name: 'an ESM package',
    dir: 'init-esm',
    packageJson: { name: 'init-esm', private: true, type: 'module' },
  },
]) {
  test(`pathwatch init in ${variant.name}: files pass tsc and validate; a second init refuses`, async (t) => {
    if (skipReason) return t.skip(skipReason);
    const dir = linkedRepo(variant.dir, variant.packageJson);
    const init = await pathwatch(dir, 'init');
    assert.equal(init.code, 0, init.stdout + init.stderr);
    assert.match(init.stdout, /^ {2}npx pathwatch run journeys\/example\.journey\.ts/m);
    const written = ['journeys/example.journey.ts', 'pathwatch.config.ts', 'tsconfig.json'];
    const contents = written.map((file) => readFileSync(join(dir, file), 'utf8'));

    const checked = await tsc(dir);
    assert.equal(checked.code, 0, `tsc failed on the scaffold:\n${checked.stdout}`);
    const validated = await pathwatch(dir, 'validate');
    assert.equal(validated.code, 0, validated.stdout + validated.stderr);
    assert.match(validated.stdout, /^ {2}journeys: 1 /m);

    const again = await pathwatch(dir, 'init');
    assert.equal(again.code, 2);
    assert.equal(again.stdout, '');
    assert.equal(
      again.stderr.trim(),
      `pathwatch init: ${written.join(', ')} already exist; nothing written (move them away to scaffold again)`,
    );
    assert.deepEqual(
      written.map((file) => readFileSync(join(dir, file), 'utf8')),
      contents,
      'a refused init changed a file',
    );
    if (variant.dir === 'init-esm') {
      const ran = await pathwatch(dir, 'run', 'journeys/example.journey.ts');
      assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    }
  });
}

test('pathwatch init refuses when one file exists and writes none of the others', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const dir = linkedRepo('init-partial', { name: 'init-partial', private: true });
  writeFileSync(join(dir, 'tsconfig.json'), '{"mine":true}');
  const init = await pathwatch(dir, 'init');
  assert.equal(init.code, 2);
  assert.equal(
    init.stderr.trim(),
    'pathwatch init: tsconfig.json already exists; nothing written (move it away to scaffold again)',
  );
  assert.equal(readFileSync(join(dir, 'tsconfig.json'), 'utf8'), '{"mine":true}');
  assert.ok(!existsSync(join(dir, 'pathwatch.config.ts')) && !existsSync(join(dir, 'journeys')));
});

test('a Playwright Test suite in the QA repository runs as a monitor through the installed pathwatch', async (t) => {
  if (skipReason) return t.skip(skipReason);
  const dir = linkedRepo('qa-suite', { name: 'qa-suite', private: true, type: 'module' });
  mkdirSync(join(dir, 'tests'), { recursive: true });
  writeFileSync(
    join(dir, 'playwright.config.ts'),
    "import { defineConfig } from '@playwright/test';\nexport default defineConfig({ testDir: 'tests', use: { baseURL: process.env.SHOP_URL } });\n",
  );
  writeFileSync(
    join(dir, 'tests', 'shop.spec.ts'),
    `import { expect, test } from '@playwright/test';

test('opens the shop', { annotation: { type: 'pathwatch', description: 'id=shop-open' } }, async ({ page }) => {
  await test.step('open the shop', async () => {
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  });
  await test.step('find the teapot', async () => {
    await expect(page.getByText(process.env.PATHWATCH_PARAM_ITEM ?? 'Log in', { exact: true })).toBeVisible({ timeout: 2000 });
  });
});
`,
  );
  writeFileSync(
    join(dir, 'pathwatch.config.ts'),
    "import { defineConfig } from 'pathwatch';\nexport default defineConfig({ locations: { local: {} }, playwright: [{ config: 'playwright.config.ts' }] });\n",
  );
  const validated = await pathwatch(dir, 'validate');
  assert.equal(validated.code, 0, validated.stdout + validated.stderr);
  assert.match(validated.stdout, /^ {2}journeys: 1 /m);
  // The installed pathwatch's reporter runs inside node_modules, where Playwright compiles no TypeScript.
  const ran = await pathwatch(dir, 'run', 'shop-open');
  assert.equal(ran.code, 0, ran.stdout + ran.stderr);
  assert.match(ran.stdout, /^ {2}ok {3}\d open the shop /m);
  assert.match(ran.stdout, /^PASS in /m);
  const failed = await pathwatch(dir, 'run', 'shop-open', '--param', 'ITEM=Porcelain teapot');
  assert.equal(failed.code, 1, failed.stdout + failed.stderr);
  assert.match(failed.stdout, /^FAIL in .*step \d "find the teapot"/m);
});
