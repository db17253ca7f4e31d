import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { SecretResolver } from '../../src/config/secret-resolver.ts';
import { BrowserPool } from '../../src/journeys/browser-pool.ts';
import { type BrowserSettings, DEFAULT_BROWSER_SETTINGS } from '../../src/journeys/browser-settings.ts';
import {
  JourneyLoadError,
  type LoadedJourney,
  loadJourney,
  loadJourneyFile,
} from '../../src/journeys/load-journey.ts';
import { runJourney } from '../../src/journeys/run-journey.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { type JourneyOptionsServer, startJourneyOptionsServer } from '../helpers/journey-options-server.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { REPO_ROOT } from '../helpers/run-cli.ts';

const API_TOKEN = 'h2-ctx-api-token-91b3';
const BASIC_PASSWORD = 'h2-ctx-basic-pw-5e8c';
const fixtures = join(REPO_ROOT, 'test/fixtures/journeys');
const artifactsDir = mkdtempSync(join(tmpdir(), 'pathwatch-h2-artifacts-'));
const secrets = new SecretResolver({ H2_API_TOKEN: API_TOKEN, H2_BASIC_PASSWORD: BASIC_PASSWORD });
let server: JourneyOptionsServer;
let pool: BrowserPool;

function run(journey: LoadedJourney, settings: Partial<BrowserSettings> = {}): Promise<RunResult> {
  return runJourney(journey, {
    pool,
    artifacts: new FilesystemArtifactStore(artifactsDir),
    secrets,
    settings: { ...DEFAULT_BROWSER_SETTINGS, ...settings },
    location: 'test',
  });
}

interface HarEntryShape {
  request: { url: string; method: string };
  response: { status: number };
  serverIPAddress?: string;
  _serverPort?: number;
  _failureText?: string;
}

function harOf(result: RunResult): { log: { entries: HarEntryShape[] } } {
  const har = result.artifacts?.find((artifact) => artifact.kind === 'har');
  assert.ok(har, `a HAR was kept: ${JSON.stringify(result.artifacts)}`);
  return JSON.parse(readFileSync(join(artifactsDir, har.key), 'utf8'));
}

before(async () => {
  server = await startJourneyOptionsServer({ apiToken: API_TOKEN, basicPassword: BASIC_PASSWORD });
  process.env.H2_BASE_URL = server.url; // context.journey.ts reads it at load time
  pool = new BrowserPool({ settings: DEFAULT_BROWSER_SETTINGS, extraArgs: LOOPBACK_ONLY_CHROMIUM_ARGS });
});

after(async () => {
  await pool.close();
  await server.close();
});

test('use: baseURL, storageState file, viewport, locale, timezoneId and httpCredentials reach the page; the password is masked', async () => {
  const journey = await loadJourney(join(fixtures, 'run-forms/context.journey.ts'));
  assert.equal(journey.use?.storageState, join(fixtures, 'run-forms/state.json'));
  const result = await run(journey, { trace: 'on' });
  assert.equal(result.status, 'pass', result.error?.message);
  const har = JSON.stringify(harOf(result));
  const basic = Buffer.from(`qa:${BASIC_PASSWORD}`).toString('base64');
  for (const secret of [BASIC_PASSWORD, basic]) {
    assert.doesNotMatch(JSON.stringify(result), new RegExp(secret));
    assert.doesNotMatch(har, new RegExp(secret));
  }
});

for (const trace of ['off', 'retain-on-failure'] as const) {
  test(`page.request calls record their peer and HAR entries (trace ${trace}); the secret header is masked`, async () => {
    const [eu] = await loadJourneyFile(join(fixtures, 'run-forms/api.journey.ts'));
    const result = await run({ ...eu, params: { ...eu.params, base: server.url } }, { trace });
    assert.equal(result.status, 'pass', result.error?.message);
    const port = Number(new URL(server.url).port);
    assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port }]);
    const entries = harOf(result).log.entries;
    const api = entries.find((entry) => entry.request.url === `${server.url}/api/eu`);
    assert.ok(api, `the API call is in the HAR: ${JSON.stringify(entries)}`);
    assert.equal(api.request.method, 'GET');
    assert.equal(api.response.status, 200);
    assert.equal(api.serverIPAddress, '127.0.0.1');
    assert.equal(api._serverPort, port);
    assert.doesNotMatch(JSON.stringify(harOf(result)) + JSON.stringify(result), new RegExp(API_TOKEN));
  });
}

test('a step failing after a refused request names it in the reason', async () => {
  const journey = await loadJourney(join(fixtures, 'refused-pay.journey.ts'));
  const api = `http://127.0.0.1:${server.closedPort}`;
  const result = await run({ ...journey, params: { base: server.url, api } }, { trace: 'off' });
  assert.equal(result.status, 'fail');
  assert.match(
    result.error?.message ?? '',
    new RegExp(
      `^journey "refused-pay" step 2 "pay": expect\\(locator\\)\\.toHaveText\\(expected\\) failed; .*\\(after POST ${api.replace(/\./g, '\\.')}/api/pay failed: net::ERR_CONNECTION_REFUSED\\)$`,
    ),
  );
});

test('a refused page.request call is named in the reason and kept in the HAR', async () => {
  const [eu] = await loadJourneyFile(join(fixtures, 'run-forms/api.journey.ts'));
  const base = `http://127.0.0.1:${server.closedPort}`;
  const result = await run({ ...eu, params: { ...eu.params, base } }, { trace: 'off' });
  assert.equal(result.status, 'fail');
  assert.match(
    result.error?.message ?? '',
    new RegExp(
      `\\(after GET ${base.replace(/\./g, '\\.')}/api/eu failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${server.closedPort}\\)$`,
    ),
  );
  const failed = harOf(result).log.entries.find((entry) => entry.request.url === `${base}/api/eu`);
  assert.equal(failed?._failureText, `connect ECONNREFUSED 127.0.0.1:${server.closedPort}`);
});

const dir = mkdtempSync(join(tmpdir(), 'pathwatch-h2-journeys-'));
async function loadError(name: string, use: string): Promise<string> {
  const file = join(dir, `${name}.journey.ts`);
  writeFileSync(file, `export default { id: '${name}', use: ${use}, async run() {} };\n`);
  const error = await loadJourney(file).then(
    () => assert.fail('loaded'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof JourneyLoadError, String(error));
  return error.message.slice(error.file.length + 2);
}

test('each bad context option is one line naming its path and what was expected', async () => {
  assert.equal(
    await loadError('missing-state', "{ storageState: 'nope/state.json' }"),
    'use.storageState: file not found: nope/state.json (expected a path relative to the journey file)',
  );
  assert.equal(
    await loadError('bad-viewport', '{ viewport: { width: 0, height: 400 } }'),
    'use.viewport.width: expected at least 1 pixel',
  );
  assert.equal(
    await loadError('bad-viewport-type', "{ viewport: '800x600' }"),
    'use.viewport: expected { width, height } in CSS pixels, got "800x600"',
  );
  assert.match(
    await loadError('unknown-option', '{ viewPort: { width: 1, height: 1 } }'),
    /^use: unknown key "viewPort"/,
  );
  assert.equal(
    await loadError('bad-zone', "{ timezoneId: 'Mars/Olympus' }"),
    'use.timezoneId: expected an IANA time zone such as "Europe/Berlin"',
  );
  assert.equal(
    await loadError('bad-url', "{ baseURL: 'shop.example' }"),
    'use.baseURL: expected an http(s) URL such as "https://shop.example"',
  );
  assert.match(
    await loadError('inline-password', "{ httpCredentials: { username: 'qa', password: 'hunter2' } }"),
    /^use\.httpCredentials\.password: must be a secret reference such as "\$\{env:NAME\}"/,
  );
});

test('several journeys per file: duplicate ids in one file are named', async () => {
  const file = join(dir, 'twins.journey.ts');
  writeFileSync(file, "export default [{ id: 'twin', async run() {} }, { id: 'twin', async run() {} }];\n");
  await assert.rejects(loadJourneyFile(file), (error: Error) => {
    assert.match(error.message, /: \[1\]\.id: duplicate id "twin" in this file$/);
    return true;
  });
});
