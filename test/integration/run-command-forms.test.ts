import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type JourneyOptionsServer, startJourneyOptionsServer } from '../helpers/journey-options-server.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { REPO_ROOT, runCli } from '../helpers/run-cli.ts';

const API_TOKEN = 'h2-api-token-4f9e1c';
const BASIC_PASSWORD = 'h2-basic-pw-7d2a';
let server: JourneyOptionsServer;
let env: NodeJS.ProcessEnv;

before(async () => {
  server = await startJourneyOptionsServer({ apiToken: API_TOKEN, basicPassword: BASIC_PASSWORD });
  env = {
    ...process.env,
    H2_API_TOKEN: API_TOKEN,
    H2_BASIC_PASSWORD: BASIC_PASSWORD,
    H2_BASE_URL: server.url,
    PATHWATCH_EXTRA_BROWSER_ARGS: LOOPBACK_ONLY_CHROMIUM_ARGS.join('\n'),
    PATHWATCH_LOG_LEVEL: 'silent',
  };
});

after(async () => {
  await server.close();
});

test('a folder runs every journey of every *.journey.ts under it: one line each, a total, peers shown', async () => {
  const result = await runCli(
    ['run', 'test/fixtures/journeys/run-forms', '--param', `base=${server.url}`, '--trace', 'off'],
    { env },
  );
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const port = new URL(server.url).port;
  // Each journey: its header, its verdict and the server it talked to (not only with --json).
  for (const id of ['api-eu', 'api-us', 'context-options'])
    assert.match(result.stdout, new RegExp(`^${id} \\(journey\\) at local: `, 'm'));
  assert.equal(result.stdout.match(new RegExp(`^  peers 127\\.0\\.0\\.1:${port}$`, 'gm'))?.length, 3);
  for (const id of ['api-eu', 'api-us', 'context-options'])
    assert.match(result.stdout, new RegExp(`^PASS +${id} in [\\d.]+ (ms|s)$`, 'm'));
  assert.match(result.stdout, /^3 journeys: 3 passed, 0 failed$/m);
  // The API token reached the server (the journeys passed) and no output shows it.
  assert.doesNotMatch(result.stdout + result.stderr, new RegExp(API_TOKEN));
});

test('--param values override params (JSON when it parses); any failed run exits 1', async () => {
  const result = await runCli(
    [
      'run',
      'test/fixtures/journeys/run-forms/api.journey.ts',
      '--param',
      `base=${server.url}`,
      '--param',
      'region=42',
      '--json',
    ],
    { env },
  );
  assert.equal(result.code, 1, result.stdout + result.stderr);
  const runs = JSON.parse(result.stdout) as Array<{
    checkId: string;
    status: string;
    error?: { message: string };
  }>;
  assert.deepEqual(
    runs.map((run) => [run.checkId, run.status]),
    [
      ['api-eu', 'fail'],
      ['api-us', 'fail'],
    ],
  );
  // region=42 parsed as the number 42: the API answered region "42", the journey expected 42.
  assert.match(runs[0].error?.message ?? '', /"region": 42/);
});

test('a malformed --param is one clear line, exit 2, and nothing runs', async () => {
  const result = await runCli(['run', 'test/fixtures/journeys/run-forms', '--param', 'no-equals-sign'], {
    env,
  });
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr.trim(),
    '--param "no-equals-sign": expected key=value, e.g. --param shopUrl=http://127.0.0.1:4601',
  );
  assert.equal(result.stdout, '');
});

test('an id names a journey of the config (from its journeys glob), and a check id still runs the check', async () => {
  const dir = join(REPO_ROOT, 'test/fixtures/journeys/run-forms');
  const config = join(dir, '..', 'run-forms.config.yaml');
  const writeConfig = (await import('node:fs')).writeFileSync;
  writeConfig(
    config,
    `locations:\n  local: {}\njourneys: run-forms/*.journey.ts\nchecks:\n  - id: api-http\n    kind: http\n    http: { url: ${server.url}/api/eu }\n`,
  );
  try {
    const journey = await runCli(['run', 'api-us', '-c', config, '--param', `base=${server.url}`], { env });
    assert.equal(journey.code, 0, journey.stdout + journey.stderr);
    assert.match(journey.stdout, /^api-us \(journey\) at local: /m);
    assert.match(journey.stdout, /^PASS in /m);
    const check = await runCli(['run', 'api-http', '-c', config], { env });
    // The API wants a token, so the check fails, and says where it went.
    assert.equal(check.code, 1, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`^  peers 127\\.0\\.0\\.1:${new URL(server.url).port}$`, 'm'));
    const unknown = await runCli(['run', 'nope', '-c', config], { env });
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr.trim(),
      /^no check or journey "nope" in .*; checks: api-http; journeys: api-eu, api-us, context-options$/,
    );
  } finally {
    (await import('node:fs')).rmSync(config, { force: true });
  }
  assert.ok(readFileSync(join(dir, 'state.json'), 'utf8').includes('from-state'));
});
