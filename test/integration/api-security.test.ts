import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 13 (roles): security headers on every answer of the API, and rate limits per
 * token or address with 429 and Retry-After, scrapers and probes never limited.
 */
const prefix = uniquePrefix('security');
let redis: Redis;
const apps: FastifyInstance[] = [];
const tokens = { first: createApiToken(), second: createApiToken() };

async function appWith(api: object): Promise<FastifyInstance> {
  const config = await parseConfig(
    {
      locations: { inside: {} },
      checks: [{ id: 'shop', kind: 'http', http: { url: 'http://127.0.0.1:4601/health' } }],
      redis: { prefix },
      api: {
        tokens: Object.entries(tokens).map(([name, { hash }]) => ({ name, hash, role: 'viewer' })),
        ...api,
      },
    },
    '/tmp/pathwatch.yaml',
  );
  const app = await buildApp({ config, recorder: new ResultsRecorder(redis, config) });
  apps.push(app);
  return app;
}

const bearer = (token: { token: string }) => ({ authorization: `Bearer ${token.token}` });

before(() => {
  redis = createRedisConnection(SHARED_REDIS_URL);
});

after(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
});

test('every answer carries the security headers: JSON, errors, metrics, the trace viewer', async () => {
  const app = await appWith({});
  const answers = {
    json: await app.inject({ url: '/api/v1/checks', headers: bearer(tokens.first) }),
    unauthorized: await app.inject({ url: '/api/v1/checks' }),
    notFound: await app.inject({ url: '/nothing-here' }),
    health: await app.inject({ url: '/healthz' }),
    metrics: await app.inject({ url: '/metrics' }),
    viewer: await app.inject({ url: '/trace/index.html' }),
  };
  assert.deepEqual(
    Object.fromEntries(Object.entries(answers).map(([name, answer]) => [name, answer.statusCode])),
    { json: 200, unauthorized: 401, notFound: 404, health: 200, metrics: 200, viewer: 200 },
  );
  for (const [name, answer] of Object.entries(answers)) {
    assert.equal(answer.headers['x-content-type-options'], 'nosniff', name);
    assert.equal(answer.headers['x-frame-options'], 'SAMEORIGIN', name);
    assert.equal(answer.headers['cross-origin-opener-policy'], 'same-origin', name);
    assert.equal(answer.headers['referrer-policy'], 'no-referrer', name);
    assert.match(String(answer.headers['strict-transport-security']), /max-age=\d+/, name);
    const csp = String(answer.headers['content-security-policy']);
    assert.match(csp, /default-src 'self'/, name);
    assert.match(csp, /script-src 'self';/, `${name}: no inline or foreign scripts`);
    assert.match(csp, /object-src 'none'/, name);
    assert.doesNotMatch(csp, /upgrade-insecure-requests/, `${name}: the API is often plain HTTP`);
  }
  const apiPolicy = String(answers.json.headers['content-security-policy']);
  assert.doesNotMatch(apiPolicy, /blob:|frame-src/, 'the API itself gets no viewer allowances');
  const viewerPolicy = String(answers.viewer.headers['content-security-policy']);
  assert.match(viewerPolicy, /img-src 'self' data: blob:/);
  assert.match(viewerPolicy, /frame-src 'self' data:/);
  assert.match(viewerPolicy, /connect-src 'self' blob:/);
});

test('the trace viewer opens with ?trace=, the parameter run links give it', async () => {
  const app = await appWith({});
  const answer = await app.inject({ url: '/trace/?trace=%2Fapi%2Fv1%2Fruns%2Fr1%2Fartifacts%2Ftrace.zip' });
  assert.equal(answer.statusCode, 200, answer.body);
  assert.match(answer.body, /Playwright Trace Viewer/);
  assert.equal((await app.inject({ url: '/trace/?other=1' })).statusCode, 400);
});

test('over the limit a token gets 429 with Retry-After in the API error shape; another token does not', async () => {
  const app = await appWith({ rateLimit: { max: 3, window: '1m' } });
  const statuses: number[] = [];
  for (let index = 0; index < 4; index++)
    statuses.push((await app.inject({ url: '/api/v1/checks', headers: bearer(tokens.first) })).statusCode);
  assert.deepEqual(statuses, [200, 200, 200, 429]);
  const refused = await app.inject({ url: '/api/v1/checks/shop', headers: bearer(tokens.first) });
  assert.equal(refused.statusCode, 429);
  const retryAfter = Number(refused.headers['retry-after']);
  assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After ${refused.headers['retry-after']}`);
  assert.equal(refused.headers['content-type'], 'application/json; charset=utf-8');
  const body = refused.json() as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(body), ['error']);
  assert.equal(body.error.code, 'RATE_LIMITED');
  assert.match(
    body.error.message,
    /^more than 3 requests in 1m from this client; try again in \d+ s \(api\.rateLimit\)$/,
  );
  assert.equal(refused.headers['x-content-type-options'], 'nosniff', 'a refusal carries the headers too');
  // Same address, another token: its own count.
  assert.equal((await app.inject({ url: '/api/v1/checks', headers: bearer(tokens.second) })).statusCode, 200);
});

test('guessed tokens count against the address, so guessing is limited before authorization', async () => {
  const app = await appWith({ rateLimit: { max: 3, window: '1m' } });
  const guess = (remoteAddress: string) =>
    app.inject({
      url: '/api/v1/checks',
      remoteAddress,
      headers: { authorization: `Bearer ${createApiToken().token}` },
    });
  const statuses: number[] = [];
  for (let index = 0; index < 4; index++) statuses.push((await guess('198.51.100.7')).statusCode);
  assert.deepEqual(statuses, [401, 401, 401, 429]);
  assert.equal(
    (await app.inject({ url: '/nothing', remoteAddress: '198.51.100.7' })).statusCode,
    429,
    'unknown paths too',
  );
  assert.equal((await guess('198.51.100.8')).statusCode, 401, 'another address has its own count');
  // IPv6 counts by /64: a fresh address in the same /64 is the same client.
  for (let index = 0; index < 3; index++) await guess(`2001:db8:1:2::${index + 1}`);
  assert.equal((await guess('2001:db8:1:2:ffff::9')).statusCode, 429);
  assert.equal((await guess('2001:db8:1:3::1')).statusCode, 401);
});

test('/healthz, /readyz and /metrics are never limited; `enabled: false` limits nothing', async () => {
  const limited = await appWith({ rateLimit: { max: 2, window: '1m' } });
  for (let index = 0; index < 10; index++) {
    for (const url of ['/healthz', '/readyz', '/metrics']) {
      const answer = await limited.inject({ url });
      assert.equal(answer.statusCode, 200, `${url} #${index + 1}: ${answer.body}`);
    }
  }
  const open = await appWith({ rateLimit: { enabled: false, max: 2 } });
  for (let index = 0; index < 10; index++)
    assert.equal(
      (await open.inject({ url: '/api/v1/checks', headers: bearer(tokens.first) })).statusCode,
      200,
    );
});
