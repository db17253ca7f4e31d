import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import type { ApiRole } from '../../src/auth/api-role.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { signLink } from '../../src/auth/signed-link.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 13, done-when 1 (roles): every route against every role, in one table. 401 without
 * a known token, 403 below the route's role, through for the role and above; the open
 * routes answer anyone. The table must name every route the app has.
 */
const prefix = uniquePrefix('roles');
const dir = mkdtempSync(join(tmpdir(), 'pw-roles-'));
let redis: Redis;
let app: FastifyInstance;
let closedApp: FastifyInstance;
const tokens = {
  viewer: createApiToken(),
  operator: createApiToken(),
  admin: createApiToken(),
  worker: createApiToken(),
};
const LINK_KEY = randomBytes(32);

type Need = ApiRole | 'open';
/** [method, route as declared, a request to it, who may call it] */
const TABLE: Array<[string, string, string, Need]> = [
  ['GET', '/healthz', '/healthz', 'open'],
  ['GET', '/readyz', '/readyz', 'open'],
  ['GET', '/metrics', '/metrics', 'open'],
  ['GET', '/trace/*', '/trace/index.html', 'open'],
  // The API's description and its page hold no data (src/api/openapi.ts).
  ['GET', '/api/openapi.json', '/api/openapi.json', 'open'],
  ['GET', '/api/docs', '/api/docs', 'open'],
  ['GET', '/api/docs/json', '/api/docs/json', 'open'],
  ['GET', '/api/docs/yaml', '/api/docs/yaml', 'open'],
  ['GET', '/api/docs/static/*', '/api/docs/static/swagger-ui.css', 'open'],
  ['GET', '/api/docs/static/index.html', '/api/docs/static/index.html', 'open'],
  ['GET', '/api/docs/static/swagger-initializer.js', '/api/docs/static/swagger-initializer.js', 'open'],
  ['GET', '/api/v1/checks', '/api/v1/checks', 'viewer'],
  ['GET', '/api/v1/checks/:id', '/api/v1/checks/shop', 'viewer'],
  ['GET', '/api/v1/checks/:id/runs', '/api/v1/checks/shop/runs', 'viewer'],
  ['GET', '/api/v1/checks/:id/rollups', '/api/v1/checks/shop/rollups', 'viewer'],
  ['GET', '/api/v1/checks/:id/incidents', '/api/v1/checks/shop/incidents', 'viewer'],
  ['POST', '/api/v1/checks/:id/run', '/api/v1/checks/shop/run', 'operator'],
  ['GET', '/api/v1/locations', '/api/v1/locations', 'viewer'],
  ['GET', '/api/v1/reports', '/api/v1/reports', 'viewer'],
  ['GET', '/api/v1/map', '/api/v1/map', 'viewer'],
  ['GET', '/api/v1/map.svg', '/api/v1/map.svg', 'viewer'],
  ['GET', '/api/v1/alerts', '/api/v1/alerts', 'operator'],
  ['GET', '/api/v1/maintenance', '/api/v1/maintenance', 'viewer'],
  ['POST', '/api/v1/maintenance', '/api/v1/maintenance', 'admin'],
  ['DELETE', '/api/v1/maintenance/:name', '/api/v1/maintenance/nope', 'admin'],
  ['GET', '/api/v1/runs/:runId', '/api/v1/runs/run1', 'viewer'],
  ['POST', '/api/v1/runs/:runId/capture', '/api/v1/runs/run1/capture', 'operator'],
  ['GET', '/api/v1/runs/:runId/artifacts/:name', '/api/v1/runs/run1/artifacts/failure.png', 'viewer'],
  ['GET', '/api/v1/runs/:runId/artifacts/:name', '/api/v1/runs/run1/artifacts/trace.zip', 'operator'],
  ['GET', '/api/v1/runs/:runId/bundle', '/api/v1/runs/run1/bundle', 'operator'],
  ['GET', '/runs/:runId', '/runs/run1', 'viewer'],
  ['GET', '/assets/run-page.css', '/assets/run-page.css', 'open'],
  // The console: its page answers 401/403 with the sign-in form; signing in and out is open.
  ['GET', '/', '/', 'viewer'],
  ['GET', '/signin', '/signin', 'open'],
  ['POST', '/signin', '/signin', 'open'],
  ['GET', '/signout', '/signout', 'open'],
  ['GET', '/map', '/map', 'viewer'],
  ['GET', '/reports', '/reports', 'viewer'],
  ['GET', '/checks/:id', '/checks/shop', 'viewer'],
  // Captures: operators only (a signed one-file link also opens a file: console-captures.test.ts).
  ['GET', '/captures', '/captures', 'operator'],
  ['POST', '/captures', '/captures', 'operator'],
  ['GET', '/captures/files/:source/:id/:name', '/captures/files/run/run1/capture.pcap', 'operator'],
  ['GET', '/assets/console-check.js', '/assets/console-check.js', 'open'],
  ['GET', '/assets/uplot.iife.min.js', '/assets/uplot.iife.min.js', 'open'],
  ['GET', '/assets/uplot.min.css', '/assets/uplot.min.css', 'open'],
  ['GET', '/assets/console.css', '/assets/console.css', 'open'],
  ['GET', '/assets/console.js', '/assets/console.js', 'open'],
  ['GET', '/api/v1/captures', '/api/v1/captures', 'operator'],
  [
    'GET',
    '/api/v1/captures/collections/:id/:file',
    '/api/v1/captures/collections/hourly/20261207T103000.000Z.pcap',
    'operator',
  ],
  // Only a worker uploads, and a worker reads nothing (every row above refuses it).
  ['PUT', '/api/v1/artifacts/*', '/api/v1/artifacts/runs/run9/upload.txt', 'worker'],
];

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  const raw = {
    locations: { inside: {} },
    checks: [{ id: 'shop', kind: 'http', http: { url: 'http://127.0.0.1:4601/health' } }],
    redis: { prefix },
    api: {
      tokens: Object.entries(tokens).map(([role, { hash }]) => ({ name: `${role}-holder`, hash, role })),
    },
  };
  const config = await parseConfig(raw, join(dir, 'pathwatch.yaml'));
  const recorder = new ResultsRecorder(redis, config);
  const artifacts = new FilesystemArtifactStore(join(dir, 'artifacts'));
  const png = await artifacts.put('runs/run1/failure.png', Buffer.from('png'), 'image/png');
  const trace = await artifacts.put('runs/run1/trace.zip', Buffer.from('zip'), 'application/zip');
  await recorder.runs.save({
    runId: 'run1',
    checkId: 'shop',
    kind: 'http',
    location: 'inside',
    startedAt: Date.now() - 1000,
    finishedAt: Date.now() - 900,
    attempt: 1,
    status: 'fail',
    phases: { total: 100 },
    peers: [],
    host: 'here',
    artifacts: [
      { kind: 'screenshot', key: png.key, bytes: png.bytes },
      { kind: 'trace', key: trace.key, bytes: trace.bytes },
    ],
  });
  app = await buildApp({ config, recorder, artifacts, linkKey: LINK_KEY });
  const closed = await parseConfig(
    { ...raw, api: { ...raw.api, openRoutes: [] } },
    join(dir, 'pathwatch.yaml'),
  );
  closedApp = await buildApp({ config: closed, recorder, artifacts });
});

after(async () => {
  await app?.close();
  await closedApp?.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('the table names every route of the app, with the role it declares', () => {
  // Adding a route without deciding who may call it fails here.
  const declared = [
    ...new Set(app.routeRoles.map((route) => `${route.method} ${route.url} ${route.role}`)),
  ].sort();
  // An artifact's role depends on its kind: the route declares the least of them.
  const least = new Map<string, Need>();
  for (const [method, route, , need] of TABLE) {
    const key = `${method} ${route}`;
    if (!least.has(key) || need === 'viewer') least.set(key, need);
  }
  const tabled = [...least].map(([key, need]) => `${key} ${need}`).sort();
  assert.deepEqual(declared, tabled);
});

test('every route against every role: 401 without a known token, 403 below its role, through at or above', async () => {
  const callers: Array<[string, Record<string, string>, ApiRole | 'none']> = [
    ['no token', {}, 'none'],
    ['an unknown token', { authorization: `Bearer ${createApiToken().token}` }, 'none'],
    ["a token's hash", { authorization: `Bearer ${tokens.admin.hash}` }, 'none'],
    ['viewer', { authorization: `Bearer ${tokens.viewer.token}` }, 'viewer'],
    ['operator', { authorization: `bearer ${tokens.operator.token}` }, 'operator'],
    ['admin', { authorization: `BEARER ${tokens.admin.token}` }, 'admin'],
    ['worker', { authorization: `Bearer ${tokens.worker.token}` }, 'worker'],
  ];
  // Written out here, not taken from roleAllows: the read roles in order, the worker apart.
  const rank = { viewer: 0, operator: 1, admin: 2 };
  const allows = (role: ApiRole, need: ApiRole) =>
    role === 'worker' || need === 'worker' ? role === need : rank[role] >= rank[need];
  const wrong: string[] = [];
  for (const [method, , url, need] of TABLE) {
    for (const [who, headers, role] of callers) {
      const response = await app.inject({ method: method as 'GET' | 'POST' | 'PUT', url, headers });
      const expected =
        need === 'open' ? 'through' : role === 'none' ? 401 : allows(role, need) ? 'through' : 403;
      const got =
        response.statusCode === 401 || response.statusCode === 403 ? response.statusCode : 'through';
      if (got !== expected)
        wrong.push(
          `${method} ${url} as ${who}: expected ${expected}, got ${response.statusCode} ${response.body.slice(0, 120)}`,
        );
      if (got === 403)
        assert.match(
          // The run page (/runs/:runId) refuses with an HTML page that carries the same message.
          String(response.headers['content-type']).startsWith('text/html')
            ? response.body.replaceAll('&quot;', '"')
            : response.json().error.message,
          // A worker is refused at the role the route declares (an artifact's is viewer), before its kind is read.
          new RegExp(
            `needs the ${role === 'worker' ? '(viewer|operator|admin)' : need} role; the token "${role}-holder" has the ${role} role`,
          ),
        );
      if (got === 401) assert.equal(response.headers['www-authenticate'], 'Bearer realm="pathwatch"');
    }
  }
  assert.deepEqual(wrong, []);
});

test('a refused viewer learns nothing of which runs have a trace', async () => {
  const headers = { authorization: `Bearer ${tokens.viewer.token}` };
  const existing = await app.inject({ url: '/api/v1/runs/run1/artifacts/trace.zip', headers });
  const missing = await app.inject({ url: '/api/v1/runs/nope/artifacts/trace.zip', headers });
  assert.equal(existing.statusCode, 403);
  assert.deepEqual(missing.json(), existing.json());
});

test('with openRoutes emptied, /metrics and health need a viewer token too', async () => {
  for (const url of ['/metrics', '/healthz', '/readyz']) {
    assert.equal((await closedApp.inject({ url })).statusCode, 401, url);
    const viewer = await closedApp.inject({
      url,
      headers: { authorization: `Bearer ${tokens.viewer.token}` },
    });
    assert.notEqual(viewer.statusCode, 401, url);
  }
});

test('a token written in the config in clear (or as a secret reference) is refused with how to fix it', async () => {
  await assert.rejects(
    parseConfig({ locations: { inside: {} }, api: { tokens: ['${env:API_TOKEN}'] } }, join(dir, 'x.yaml'), {
      API_TOKEN: 'x',
    }),
    (error: Error) => {
      assert.match(error.message, /api\.tokens\[0\]: tokens are kept as hashes.*pathwatch token create/);
      return true;
    },
  );
  await assert.rejects(
    parseConfig(
      { locations: { inside: {} }, api: { tokens: [{ name: 'x', hash: 'md5:abc', role: 'root' }] } },
      join(dir, 'x.yaml'),
    ),
    (error: Error) => {
      assert.match(error.message, /api\.tokens\[0\]\.hash: expected "sha256:" and 64 hex digits/);
      assert.match(
        error.message,
        /api\.tokens\[0\]\.role: expected one of viewer, operator, admin, worker, got "root"/,
      );
      return true;
    },
  );
});

test("a signed link opens that run's evidence without a token, and nothing else; changed or expired links are refused", async () => {
  const link = signLink(LINK_KEY, { runId: 'run1', expiresAt: Date.now() + 3_600_000 });
  const query = (params: { exp: string; sig: string }) => `exp=${params.exp}&sig=${params.sig}`;
  const trace = await app.inject({ url: `/api/v1/runs/run1/artifacts/trace.zip?${query(link)}` });
  assert.equal(trace.statusCode, 200, trace.body);
  assert.equal(trace.body, 'zip');
  // Not the run's JSON, nor another run's evidence, nor with its expiry moved.
  assert.equal((await app.inject({ url: `/api/v1/runs/run1?${query(link)}` })).statusCode, 401);
  const other = await app.inject({ url: `/api/v1/runs/run2/artifacts/trace.zip?${query(link)}` });
  assert.equal(other.statusCode, 403);
  assert.equal(other.json().error.code, 'LINK_INVALID');
  const later = await app.inject({
    url: `/api/v1/runs/run1/artifacts/trace.zip?exp=${Number(link.exp) + 86_400}&sig=${link.sig}`,
  });
  assert.equal(later.statusCode, 403);
  const expired = signLink(LINK_KEY, { runId: 'run1', expiresAt: Date.now() - 1000 });
  const gone = await app.inject({ url: `/api/v1/runs/run1/artifacts/trace.zip?${query(expired)}` });
  assert.equal(gone.statusCode, 410);
  assert.equal(gone.json().error.code, 'LINK_EXPIRED');
  const otherKey = signLink(randomBytes(32), { runId: 'run1', expiresAt: Date.now() + 3_600_000 });
  assert.equal(
    (await app.inject({ url: `/api/v1/runs/run1/artifacts/trace.zip?${query(otherKey)}` })).statusCode,
    403,
  );
});
