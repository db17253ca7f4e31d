import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { type LoadedConfig, parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { runOf } from '../helpers/alert-pipeline.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * A browser that signed in to the console opens the console's links (a run page, the report's
 * CSV) with its session cookie; the cookie never changes anything, and it ends when its token
 * leaves api.tokens or is replaced.
 */
const prefix = uniquePrefix('console-session');
const dir = mkdtempSync(join(tmpdir(), 'pw-console-session-'));
const linkKey = Buffer.alloc(32, 9);
const viewer = createApiToken();
const admin = createApiToken();
let redis: Redis;
let recorder: ResultsRecorder;
const apps: FastifyInstance[] = [];

async function appWith(tokens: Array<{ name: string; hash: string; role: string }>) {
  const config: LoadedConfig = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'shop', kind: 'http', http: { url: 'http://127.0.0.1:1/' } }],
      redis: { prefix },
      dataDir: join(dir, 'data'),
      api: { tokens },
    },
    join(dir, 'pathwatch.yaml'),
  );
  recorder ??= new ResultsRecorder(redis, config);
  const app = await buildApp({ config, recorder, redis, linkKey });
  await app.listen({ host: '127.0.0.1', port: 0 });
  apps.push(app);
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

async function signIn(base: string, token: string): Promise<string> {
  const response = await fetch(`${base}/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, next: '/' }),
    redirect: 'manual',
  });
  assert.equal(response.status, 303);
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  assert.ok(cookie?.startsWith('pathwatch_session='), String(cookie));
  return cookie as string;
}

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
});

after(async () => {
  for (const app of apps) await app.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const TOKENS = () => [
  { name: 'wall-screen', hash: viewer.hash, role: 'viewer' },
  { name: 'ops', hash: admin.hash, role: 'admin' },
];

test("the session cookie opens the console's links: a run page and the report's CSV", async () => {
  const base = await appWith(TOKENS());
  await recorder.recordRun(runOf('shop', 'inside', 'fail', Date.now() - 1000), {
    counted: true,
    policy: { downAfter: 1, upAfter: 1 },
    locations: ['inside'],
  });
  const runId = (await recorder.runs.listRuns('shop', { limit: 1 }))[0].runId;
  const cookie = await signIn(base, viewer.token);

  // Without the cookie both are refused: the cookie is what opens them.
  assert.equal((await fetch(`${base}/runs/${runId}?lang=en`)).status, 401);
  assert.equal((await fetch(`${base}/api/v1/reports?period=day&format=csv`)).status, 401);

  const runPage = await fetch(`${base}/runs/${runId}?lang=en`, { headers: { cookie } });
  assert.equal(runPage.status, 200);
  assert.match(await runPage.text(), new RegExp(runId));
  const csv = await fetch(`${base}/api/v1/reports?period=day&format=csv`, { headers: { cookie } });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
  assert.match((await csv.text()).split('\n')[0], /check/);
  // A viewer's session is a viewer: what needs an operator stays refused.
  assert.equal((await fetch(`${base}/api/v1/captures`, { headers: { cookie } })).status, 403);
  // An altered cookie is no session.
  const altered = `${cookie.slice(0, -2)}${cookie.endsWith('A') ? 'B' : 'A'}A`;
  assert.equal((await fetch(`${base}/runs/${runId}`, { headers: { cookie: altered } })).status, 401);
});

test('the cookie never changes anything: an admin session cannot POST or DELETE through the API', async () => {
  const base = await appWith(TOKENS());
  const cookie = await signIn(base, admin.token);
  assert.equal((await fetch(`${base}/api/v1/maintenance`, { headers: { cookie } })).status, 200);
  const posted = await fetch(`${base}/api/v1/maintenance`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'from-a-cookie', start: new Date().toISOString(), duration: '1h' }),
  });
  assert.equal(posted.status, 401, 'a cookie is not a bearer token for a change');
  const listed = await (
    await fetch(`${base}/api/v1/maintenance`, { headers: { authorization: `Bearer ${admin.token}` } })
  ).json();
  assert.ok(!JSON.stringify(listed).includes('from-a-cookie'), 'nothing was added');
});

test('a session ends when its token leaves api.tokens or is replaced under the same name', async () => {
  const base = await appWith(TOKENS());
  const cookie = await signIn(base, viewer.token);
  assert.equal((await fetch(`${base}/?lang=en`, { headers: { cookie } })).status, 200);

  // Same link key, the token removed: the cookie signs right but stands for nothing.
  const removed = await appWith([{ name: 'ops', hash: admin.hash, role: 'admin' }]);
  assert.equal((await fetch(`${removed}/?lang=en`, { headers: { cookie } })).status, 401);
  assert.equal((await fetch(`${removed}/api/v1/checks`, { headers: { cookie } })).status, 401);

  // The name kept, its token replaced (a leaked token rotated): the old sessions end too.
  const rotated = await appWith([
    { name: 'wall-screen', hash: createApiToken().hash, role: 'viewer' },
    { name: 'ops', hash: admin.hash, role: 'admin' },
  ]);
  assert.equal((await fetch(`${rotated}/api/v1/checks`, { headers: { cookie } })).status, 401);

  // Its role lowered to worker: the session no longer reads.
  const demoted = await appWith([
    { name: 'wall-screen', hash: viewer.hash, role: 'worker' },
    { name: 'ops', hash: admin.hash, role: 'admin' },
  ]);
  assert.equal((await fetch(`${demoted}/api/v1/checks`, { headers: { cookie } })).status, 403);
});

test('two tokens of one name are a config error naming both places', async () => {
  await assert.rejects(
    parseConfig(
      {
        locations: { inside: {} },
        checks: [],
        api: {
          tokens: [
            { name: 'ops', hash: viewer.hash, role: 'viewer' },
            { name: 'ops', hash: admin.hash, role: 'admin' },
          ],
        },
      },
      join(dir, 'dup.yaml'),
    ),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(
        error.message,
        /api\.tokens\[1\]\.name.*"ops" is already the name of api\.tokens\[0\]; each token needs its own name/,
      );
      return true;
    },
  );
});
