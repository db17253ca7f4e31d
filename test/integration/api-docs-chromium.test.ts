import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Browser } from 'playwright';
import { buildApp } from '../../src/api/build-app.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { launchLoopbackChromium } from '../helpers/loopback-browser.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * The docs page (/api/docs, swagger-ui served from the installed package) renders the API's
 * operations in a real Chromium under the CSP the API sends, with nothing refused and no
 * request leaving this origin (it must work offline).
 */
const prefix = uniquePrefix('api-docs');
const dir = mkdtempSync(join(tmpdir(), 'pw-api-docs-'));
let redis: Redis;
let app: FastifyInstance;
let browser: Browser;

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  browser = await launchLoopbackChromium();
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'shop', kind: 'http', http: { url: 'http://127.0.0.1/' } }],
      redis: { prefix },
    },
    join(dir, 'pathwatch.yaml'),
  );
  app = await buildApp({ config, recorder: new ResultsRecorder(redis, config) });
  await app.listen({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  await browser?.close();
  await app?.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('the docs page shows the API under its CSP, offline', async () => {
  const { port } = app.server.address() as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  const page = await browser.newPage();
  const policyMessages: string[] = [];
  const elsewhere: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) policyMessages.push(message.text());
  });
  page.on('request', (request) => {
    if (!request.url().startsWith(origin) && !request.url().startsWith('data:'))
      elsewhere.push(request.url());
  });
  const answer = await page.goto(`${origin}/api/docs`);
  assert.equal(answer?.status(), 200);
  assert.match(String(answer?.headers()['content-security-policy']), /script-src 'self'/);
  // An operation's block appears once the scripts ran and the document was fetched and read.
  await page.locator('.opblock-summary-path', { hasText: '/api/v1/checks/{id}/runs' }).first().waitFor({
    timeout: 20_000,
  });
  await page.waitForTimeout(500);
  assert.deepEqual(policyMessages, []);
  assert.deepEqual(elsewhere, []);
});
