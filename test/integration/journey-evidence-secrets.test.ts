import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { strFromU8, unzipSync } from 'fflate';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { SecretMasker } from '../../src/config/secret-masker.ts';
import { SecretResolver } from '../../src/config/secret-resolver.ts';
import { BrowserPool } from '../../src/journeys/browser-pool.ts';
import { type BrowserSettings, DEFAULT_BROWSER_SETTINGS } from '../../src/journeys/browser-settings.ts';
import type { LoadedJourney } from '../../src/journeys/load-journey.ts';
import { runJourney } from '../../src/journeys/run-journey.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { findLeaks } from '../helpers/secret-encodings.ts';
import { startTokenLoginServer, type TokenLoginServer } from '../helpers/token-login-server.ts';
import { viewTraceResponse } from '../helpers/trace-viewer.ts';

/** `"`, `\`, `%`, `+`, a space and non-ASCII: every escaping rule has something to do. */
const PASSWORD = 'Qx"7731 pa+ss\\w%rd-é中';

const artifactsDir = mkdtempSync(join(tmpdir(), 'pathwatch-evidence-secrets-'));
const artifacts = new FilesystemArtifactStore(artifactsDir);
let server: TokenLoginServer;
let pool: BrowserPool;

before(async () => {
  server = await startTokenLoginServer({ username: 'alice', password: PASSWORD });
  pool = new BrowserPool({ settings: DEFAULT_BROWSER_SETTINGS, extraArgs: LOOPBACK_ONLY_CHROMIUM_ARGS });
});
after(async () => {
  await pool.close();
  await server.close();
  rmSync(artifactsDir, { recursive: true, force: true });
});

/** Logs in (form post, cookie, token, bearer call), searches for the password, then fails. */
const login: LoadedJourney = {
  file: 'inline',
  id: 'login',
  name: 'login',
  timeout: 30_000,
  tags: [],
  params: {},
  secretRefs: { password: '${env:LOGIN_PASSWORD}' },
  async run({ page, step, expect, secrets }) {
    await step('log in', async () => {
      await page.goto(server.url);
      await page.fill('#username', 'alice');
      await page.fill('#password', secrets.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect(page.locator('#who')).toHaveText('Welcome alice');
    });
    await step('search', async () => {
      await page.goto(`${server.url}/search?q=${encodeURIComponent(secrets.password)}`);
    });
    await step('check', async () => {
      throw new Error(`unexpected answer for ${JSON.stringify({ password: secrets.password })}`);
    });
  },
};

function run(settings: Partial<BrowserSettings>): Promise<RunResult> {
  return runJourney(login, {
    pool,
    artifacts,
    secrets: new SecretResolver({ LOGIN_PASSWORD: PASSWORD }, {}, undefined, new SecretMasker()),
    settings: { ...DEFAULT_BROWSER_SETTINGS, ...settings },
    location: 'test',
  });
}

/** A valid zip, nothing leaked in any entry, every reference resolved, no name from a body's SHA-1. */
function assertTraceClean(zip: Buffer): void {
  const entries = unzipSync(zip); // a valid zip
  const leaks = Object.entries(entries).flatMap(([name, bytes]) =>
    findLeaks(Buffer.from(bytes), name, secretsOf()),
  );
  assert.deepEqual(leaks, []);

  // Every reference to a resource names a file in the zip, and no name is derived from
  // what was exchanged (Playwright names them by the SHA-1 of the unmasked bodies).
  const names = Object.keys(entries);
  const references = new Set<string>();
  for (const name of names.filter((entry) => /\.(trace|network)$/.test(entry))) {
    for (const line of strFromU8(entries[name]).split('\n')) {
      if (!line.trim()) continue;
      JSON.stringify(JSON.parse(line), (key, value) => {
        if (key === '_file') references.add(value);
        if ((key === 'sha1' || key === '_sha1') && typeof value === 'string')
          references.add(`resources/${value}`);
        return value;
      });
    }
  }
  assert.ok(references.size >= 4, `the trace refers to its bodies: ${[...references]}`);
  for (const reference of references) assert.ok(names.includes(reference), `${reference} is in the zip`);
  const exchangedHashes = server.bodies.map((body) => createHash('sha1').update(body).digest('hex'));
  for (const name of names.filter((entry) => entry.startsWith('resources/')))
    assert.ok(!exchangedHashes.some((hash) => name.includes(hash)), `${name} is not named by a body's SHA-1`);
}

function secretsOf() {
  return { password: PASSWORD, token: server.token, session: server.sessionId };
}

test('a kept trace and HAR hold no password, session cookie or bearer token, in any encoding', async () => {
  const loginsBefore = server.logins;
  const result = await run({ trace: 'on', har: true });
  assert.equal(server.logins, loginsBefore + 1, 'the journey really logged in');
  assert.equal(result.status, 'fail');
  assert.match(result.error?.message ?? '', /step 3 "check": unexpected answer for \{"password":"\*\*\*"\}/);
  assert.deepEqual(findLeaks(JSON.stringify(result), 'result', secretsOf()), []);

  const traceRef = result.artifacts?.find((artifact) => artifact.kind === 'trace');
  const harRef = result.artifacts?.find((artifact) => artifact.kind === 'har');
  assert.ok(traceRef && harRef, JSON.stringify(result.artifacts));
  const har = readFileSync(join(artifactsDir, harRef.key));
  assert.deepEqual(findLeaks(har, 'network.har', secretsOf()), []);
  JSON.parse(har.toString('utf8'));

  const zip = readFileSync(join(artifactsDir, traceRef.key));
  assertTraceClean(zip);
  // Playwright's own viewer opens it and finds the token answer's body under its new name.
  const shown = await viewTraceResponse(zip, 'token', 'expires_in');
  assert.match(shown, /"access_token": "\*\*\*"/);
  assert.match(shown, /search\?q=\*\*\*/);
  assert.ok(
    server.bodies.some((body) => body.includes('password=')),
    'the form post was among the bodies hashed',
  );
});

test('an untraced run records its HAR with the same masking', async () => {
  const result = await run({ trace: 'off', har: true });
  assert.equal(result.status, 'fail');
  const harRef = result.artifacts?.find((artifact) => artifact.kind === 'har');
  assert.ok(harRef);
  assert.deepEqual(findLeaks(readFileSync(join(artifactsDir, harRef.key)), 'network.har', secretsOf()), []);
  assert.deepEqual(findLeaks(JSON.stringify(result), 'result', secretsOf()), []);
});

test('with the screencast on, its frames are renamed and referenced like the bodies', async () => {
  const result = await run({ trace: 'on', traceScreenshots: true, har: false });
  const traceRef = result.artifacts?.find((artifact) => artifact.kind === 'trace');
  assert.ok(traceRef);
  const entries = unzipSync(readFileSync(join(artifactsDir, traceRef.key)));
  assert.ok(
    Object.keys(entries).some((name) => name.endsWith('.jpeg')),
    'the screencast frames are in the trace',
  );
  assertTraceClean(readFileSync(join(artifactsDir, traceRef.key)));
});
