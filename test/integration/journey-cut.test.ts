import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { SecretResolver } from '../../src/config/secret-resolver.ts';
import { BrowserPool } from '../../src/journeys/browser-pool.ts';
import { DEFAULT_BROWSER_SETTINGS } from '../../src/journeys/browser-settings.ts';
import { loadJourney } from '../../src/journeys/load-journey.ts';
import { runJourney } from '../../src/journeys/run-journey.ts';
import { LOOPBACK_ONLY_CHROMIUM_ARGS } from '../helpers/loopback-browser.ts';
import { startHttpServer } from '../helpers/test-servers.ts';

const repo = new URL('../..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('a journey cut at its timeout is stopped, not left running: no step starts after its run ends', async (t) => {
  const paths: string[] = [];
  const site = await startHttpServer((request, response) => {
    paths.push(request.url ?? '');
    response.end('<!doctype html><title>ok</title>');
  });
  process.env.OUTLIVE_TIMEOUT_URL = `${site.url}/`;
  const pool = new BrowserPool({
    settings: DEFAULT_BROWSER_SETTINGS,
    extraArgs: LOOPBACK_ONLY_CHROMIUM_ARGS,
  });
  t.after(async () => {
    await pool.close();
    await site.close();
  });
  // Chromium launched before the run: on a loaded machine its launch alone can take the
  // journey's 2 s, and the deadline would then cut the run before its first step began.
  await pool.release(await pool.acquire());
  const journey = await loadJourney(join(repo, 'test/fixtures/journeys/outlive-timeout.journey.ts'));
  const result = await runJourney(journey, {
    pool,
    artifacts: new FilesystemArtifactStore(mkdtempSync(join(tmpdir(), 'pathwatch-journey-cut-'))),
    secrets: new SecretResolver({}, {}),
    settings: { ...DEFAULT_BROWSER_SETTINGS, trace: 'off' },
    location: 'test',
  });
  assert.equal(result.status, 'fail');
  assert.equal(
    result.error?.message,
    'journey "outlive-timeout" step 1 "wait on a timer": journey timeout of 2000 ms exceeded',
  );
  await sleep(3000); // past the first step's timer: a body left running would report now
  assert.deepEqual(paths, [], 'the body did not go on to its next step');
  assert.deepEqual(
    result.steps?.map((step) => [step.name, step.status]),
    [['wait on a timer', 'fail']],
    'the step cut by the deadline is recorded as the failed one, even though its timer ended later',
  );
});
