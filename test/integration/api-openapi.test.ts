import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
// Ajv comes with Fastify (its own validator); here it reads the document's JSON Schemas.
import { Ajv2020 } from 'ajv/dist/2020.js';
import Fastify, { type FastifyInstance, type InjectOptions, type LightMyRequestResponse } from 'fastify';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { buildApp } from '../../src/api/build-app.ts';
import { registerOpenApiCollector } from '../../src/api/openapi.ts';
import { responseSerializerCompiler, zodValidatorCompiler } from '../../src/api/schema-compilers.ts';
import { FilesystemArtifactStore } from '../../src/artifacts/filesystem-artifact-store.ts';
import { createApiToken } from '../../src/auth/api-token.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

/**
 * Issue 13, OpenAPI: /api/openapi.json is an OpenAPI 3 document that lists every /api/v1
 * route with its parameters and a response for every status it may answer, and what the
 * routes really answer (in the other API tests' scenarios) matches what it documents.
 */
const prefix = uniquePrefix('openapi');
const dir = mkdtempSync(join(tmpdir(), 'pw-openapi-'));
const tokens = { viewer: createApiToken(), operator: createApiToken() };
const asOperator = { authorization: `Bearer ${tokens.operator.token}` };
const asViewer = { authorization: `Bearer ${tokens.viewer.token}` };
let redis: Redis;
let app: FastifyInstance;
let stopWorker: () => Promise<void>;

/** Routes other work added this session without schemas; listed, with why, and nothing else. */
const NOT_YET_DOCUMENTED: Record<string, string> = {};

interface Operation {
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: object }>;
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>;
}
interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
}

/** `/api/v1/runs/:runId` as OpenAPI writes it: `/api/v1/runs/{runId}`. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{*}');

function run(overrides: Partial<RunResult> & { runId: string }): RunResult {
  return {
    checkId: 'shop',
    kind: 'http',
    location: 'inside',
    scheduledAt: Date.now() - 2000,
    startedAt: Date.now() - 1000,
    finishedAt: Date.now() - 900,
    attempt: 1,
    status: 'fail',
    phases: { dns: 1, connect: 2, total: 100 },
    peers: [{ ip: '127.0.0.1', port: 4601 }],
    error: {
      class: 'connect_timeout',
      code: 'CONNECT_TIMEOUT',
      message: 'connect timed out',
      phase: 'connect',
    },
    assertions: [{ name: 'status in 200-299', ok: false, expected: '200-299', actual: null }],
    details: { httpVersion: '1.1' },
    host: 'here',
    localPorts: [50123],
    timeoutMs: 5000,
    intervalMs: 60_000,
    ...overrides,
  };
}

let doc: OpenApiDocument;

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: { description: 'a cloud VM' } },
      checks: [{ id: 'shop', kind: 'http', http: { url: 'http://127.0.0.1:4601/health' } }],
      redis: { prefix },
      api: {
        tokens: Object.entries(tokens).map(([role, { hash }]) => ({ name: `${role}-holder`, hash, role })),
      },
    },
    join(dir, 'pathwatch.yaml'),
  );
  const recorder = new ResultsRecorder(redis, config);
  const artifacts = new FilesystemArtifactStore(join(dir, 'artifacts'));
  const png = await artifacts.put('runs/run1/failure.png', Buffer.from('png-bytes'), 'image/png');
  const pcap = await artifacts.put(
    'runs/run1/capture.pcap',
    Buffer.from('pcap-bytes'),
    'application/octet-stream',
  );
  const policy = { downAfter: 1, upAfter: 1 };
  const locations = ['inside', 'outside'];
  // Two counted failures: a state, rollups and an incident to answer with.
  await recorder.record(run({ runId: 'run0', startedAt: Date.now() - 70_000 }), {
    counted: true,
    policy,
    locations,
  });
  await recorder.record(
    run({
      runId: 'run1',
      steps: [
        { name: 'open', startedAt: Date.now() - 1000, durationMs: 50, status: 'fail', error: 'timeout' },
      ],
      artifacts: [
        { kind: 'screenshot', key: png.key, bytes: png.bytes, contentType: 'image/png' },
        { kind: 'pcap', key: pcap.key, bytes: pcap.bytes },
      ],
    }),
    { counted: true, policy, locations },
  );
  await recorder.runs.save(run({ runId: 'nohost', host: undefined }));
  stopWorker = recorder.workers.start('inside', () => ({ ring: { ok: true } }));
  app = await buildApp({ config, recorder, artifacts, redis });
  await app.ready();
  const response = await app.inject({ url: '/api/openapi.json' });
  assert.equal(response.statusCode, 200, response.body);
  doc = response.json();
});

after(async () => {
  await stopWorker?.();
  await app?.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

test('/api/openapi.json is an OpenAPI 3 document, open without a token, served as JSON', async () => {
  const response = await app.inject({ url: '/api/openapi.json' });
  assert.match(String(response.headers['content-type']), /^application\/json/);
  assert.match(doc.openapi, /^3\.\d+\.\d+$/);
  assert.equal(doc.info.title, 'pathwatch API');
  assert.equal(typeof doc.info.version, 'string');
  assert.equal(typeof doc.paths, 'object');
  for (const [path, item] of Object.entries(doc.paths)) {
    assert.match(path, /^\//, path);
    for (const [method, operation] of Object.entries(item)) {
      assert.ok(['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(method), method);
      assert.ok(operation.responses && Object.keys(operation.responses).length > 0, `${method} ${path}`);
      for (const [status, answer] of Object.entries(operation.responses)) {
        assert.match(status, /^([1-5]\d\d|default)$/, `${method} ${path} ${status}`);
        assert.equal(typeof answer.description, 'string', `${method} ${path} ${status} has a description`);
      }
      // Every {name} in the path is a required path parameter, and every path parameter is in it.
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]).sort();
      const declared = (operation.parameters ?? [])
        .filter((parameter) => parameter.in === 'path')
        .map((parameter) => {
          assert.equal(parameter.required, true, `${method} ${path} ${parameter.name}`);
          return parameter.name;
        })
        .sort();
      if (declared.length > 0) assert.deepEqual(declared, inPath, `${method} ${path}`);
    }
  }
  // The docs page reads the same document.
  assert.deepEqual((await app.inject({ url: '/api/docs/json' })).json(), doc);
});

test('every /api/v1 route is documented with its parameters and a response for each status it may answer', (t) => {
  const missing: string[] = [];
  const routes = [
    ...new Map(app.routeRoles.map((route) => [`${route.method} ${route.url}`, route])).values(),
  ];
  const apiRoutes = routes.filter((route) => route.url.startsWith('/api/v1/'));
  assert.ok(apiRoutes.length >= 14, `only ${apiRoutes.length} /api/v1 routes`);
  for (const route of apiRoutes) {
    const key = `${route.method} ${route.url}`;
    if (NOT_YET_DOCUMENTED[key]) {
      t.diagnostic(`not yet documented: ${key}: ${NOT_YET_DOCUMENTED[key]}`);
      continue;
    }
    const operation = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
    if (!operation) {
      missing.push(`${key}: not in the document`);
      continue;
    }
    const statuses = Object.keys(operation.responses);
    const success = statuses.filter((status) => /^2\d\d$/.test(status));
    if (success.length === 0) missing.push(`${key}: no 2xx response`);
    // Bad input, rate limits and Redis down reach every route; tokens and roles every one that is not open.
    const needed = ['400', '429', '503', ...(route.role === 'open' ? [] : ['401', '403'])];
    for (const status of needed)
      if (!statuses.includes(status)) missing.push(`${key}: no ${status} response`);
    for (const status of statuses) {
      const answer = operation.responses[status];
      if (!answer.content || Object.keys(answer.content).length === 0)
        missing.push(`${key}: ${status} has no content schema`);
    }
    for (const name of [...route.url.matchAll(/:(\w+)/g)].map((match) => match[1])) {
      if (!operation.parameters?.some((parameter) => parameter.in === 'path' && parameter.name === name))
        missing.push(`${key}: path parameter ${name} not documented`);
    }
  }
  assert.deepEqual(missing, []);
  // Query parameters the routes take are listed under their names.
  const query = (path: string, method = 'get') =>
    (doc.paths[path][method].parameters ?? [])
      .filter((parameter) => parameter.in === 'query')
      .map((parameter) => parameter.name)
      .sort();
  assert.deepEqual(query('/api/v1/checks/{id}/runs'), ['limit', 'location']);
  assert.deepEqual(query('/api/v1/checks/{id}/rollups'), ['hours']);
  assert.deepEqual(query('/api/v1/captures'), ['check', 'from', 'limit', 'location', 'to']);
  assert.deepEqual(query('/api/v1/runs/{runId}/bundle'), ['exp', 'sig', 'tz']);
  assert.deepEqual(query('/api/v1/runs/{runId}/artifacts/{name}'), ['exp', 'sig']);
  assert.ok(
    doc.paths['/api/v1/runs/{runId}/capture'].post.requestBody,
    'the capture request documents its body',
  );
});

/** Checks a real answer against what the document says the route answers with that status. */
function holdsToDocument(
  ajv: Ajv2020,
  route: string,
  method: string,
  response: LightMyRequestResponse,
): string | undefined {
  const label = `${method} ${route} → ${response.statusCode}`;
  const answer = doc.paths[route]?.[method.toLowerCase()]?.responses[String(response.statusCode)];
  if (!answer?.content) return `${label}: status not documented`;
  const type = String(response.headers['content-type'] ?? '');
  if (type.startsWith('application/json')) {
    const schema = answer.content['application/json']?.schema;
    if (!schema) return `${label}: answered JSON, documented ${Object.keys(answer.content).join(', ')}`;
    const validate = ajv.compile(schema);
    if (!validate(response.json()))
      return `${label}: ${ajv.errorsText(validate.errors)} in ${response.body.slice(0, 300)}`;
    return undefined;
  }
  if (answer.content['application/json']) return `${label}: answered ${type}, documented JSON`;
  return undefined;
}

test('every documented response schema matches what the route really answers, errors included', async () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // [documented path, method, request, expected status]
  const scenarios: Array<[string, string, InjectOptions, number]> = [
    ['/api/v1/checks', 'GET', { url: '/api/v1/checks', headers: asViewer }, 200],
    ['/api/v1/checks', 'GET', { url: '/api/v1/checks?nope=1', headers: asViewer }, 400],
    ['/api/v1/checks', 'GET', { url: '/api/v1/checks' }, 401],
    ['/api/v1/checks/{id}', 'GET', { url: '/api/v1/checks/shop', headers: asViewer }, 200],
    ['/api/v1/checks/{id}', 'GET', { url: '/api/v1/checks/nope', headers: asViewer }, 404],
    ['/api/v1/checks/{id}/runs', 'GET', { url: '/api/v1/checks/shop/runs', headers: asViewer }, 200],
    [
      '/api/v1/checks/{id}/runs',
      'GET',
      { url: '/api/v1/checks/shop/runs?limit=abc', headers: asViewer },
      400,
    ],
    [
      '/api/v1/checks/{id}/runs',
      'GET',
      { url: '/api/v1/checks/shop/runs?location=mars', headers: asViewer },
      400,
    ],
    [
      '/api/v1/checks/{id}/incidents',
      'GET',
      { url: '/api/v1/checks/shop/incidents', headers: asViewer },
      200,
    ],
    ['/api/v1/checks/{id}/rollups', 'GET', { url: '/api/v1/checks/shop/rollups', headers: asViewer }, 200],
    [
      '/api/v1/checks/{id}/rollups',
      'GET',
      { url: '/api/v1/checks/shop/rollups?hours=0', headers: asViewer },
      400,
    ],
    [
      '/api/v1/checks/{id}/run',
      'POST',
      { method: 'POST', url: '/api/v1/checks/shop/run', headers: asOperator },
      503,
    ],
    [
      '/api/v1/checks/{id}/run',
      'POST',
      { method: 'POST', url: '/api/v1/checks/shop/run', headers: asViewer },
      403,
    ],
    ['/api/v1/locations', 'GET', { url: '/api/v1/locations', headers: asViewer }, 200],
    ['/api/v1/runs/{runId}', 'GET', { url: '/api/v1/runs/run1', headers: asViewer }, 200],
    ['/api/v1/runs/{runId}', 'GET', { url: '/api/v1/runs/gone', headers: asViewer }, 404],
    ['/api/v1/runs/{runId}', 'GET', { url: '/api/v1/runs/..x', headers: asViewer }, 400],
    [
      '/api/v1/runs/{runId}/capture',
      'POST',
      {
        method: 'POST',
        url: '/api/v1/runs/run1/capture',
        headers: asOperator,
        payload: { unfiltered: 'yes' },
      },
      400,
    ],
    [
      '/api/v1/runs/{runId}/capture',
      'POST',
      { method: 'POST', url: '/api/v1/runs/gone/capture', headers: asOperator },
      404,
    ],
    [
      '/api/v1/runs/{runId}/capture',
      'POST',
      { method: 'POST', url: '/api/v1/runs/nohost/capture', headers: asOperator },
      409,
    ],
    [
      '/api/v1/runs/{runId}/capture',
      'POST',
      { method: 'POST', url: '/api/v1/runs/run1/capture', headers: asOperator },
      503,
    ],
    [
      '/api/v1/runs/{runId}/artifacts/{name}',
      'GET',
      { url: '/api/v1/runs/run1/artifacts/failure.png', headers: asViewer },
      200,
    ],
    [
      '/api/v1/runs/{runId}/artifacts/{name}',
      'GET',
      { url: '/api/v1/runs/run1/artifacts/capture.pcap', headers: { ...asOperator, range: 'bytes=0-3' } },
      206,
    ],
    [
      '/api/v1/runs/{runId}/artifacts/{name}',
      'GET',
      { url: '/api/v1/runs/run1/artifacts/capture.pcap', headers: { ...asOperator, range: 'bytes=999-' } },
      416,
    ],
    [
      '/api/v1/runs/{runId}/artifacts/{name}',
      'GET',
      { url: '/api/v1/runs/run1/artifacts/capture.pcap', headers: asViewer },
      403,
    ],
    [
      '/api/v1/runs/{runId}/artifacts/{name}',
      'GET',
      { url: '/api/v1/runs/run1/artifacts/no.png', headers: asViewer },
      404,
    ],
    [
      '/api/v1/runs/{runId}/artifacts/{name}',
      'GET',
      {
        url: `/api/v1/runs/run1/artifacts/failure.png?exp=${Math.floor(Date.now() / 1000) - 10}&sig=${'0'.repeat(43)}`,
      },
      403,
    ],
    ['/api/v1/runs/{runId}/bundle', 'GET', { url: '/api/v1/runs/run1/bundle', headers: asOperator }, 200],
    [
      '/api/v1/runs/{runId}/bundle',
      'GET',
      { url: '/api/v1/runs/run1/bundle?tz=Mars/Base', headers: asOperator },
      400,
    ],
    ['/api/v1/runs/{runId}/bundle', 'GET', { url: '/api/v1/runs/gone/bundle', headers: asOperator }, 404],
    ['/api/v1/captures', 'GET', { url: '/api/v1/captures', headers: asOperator }, 200],
    ['/api/v1/captures', 'GET', { url: '/api/v1/captures?limit=0', headers: asOperator }, 400],
    [
      '/api/v1/captures/collections/{id}/{file}',
      'GET',
      { url: '/api/v1/captures/collections/hourly/x.pcap', headers: asOperator },
      404,
    ],
    ['/healthz', 'GET', { url: '/healthz' }, 200],
    ['/readyz', 'GET', { url: '/readyz' }, 200],
    ['/metrics', 'GET', { url: '/metrics' }, 200],
  ];
  const wrong: string[] = [];
  const answered: Record<string, unknown> = {};
  for (const [route, method, request, status] of scenarios) {
    const response = await app.inject(request);
    if (response.statusCode !== status) {
      wrong.push(
        `${method} ${request.url}: expected ${status}, got ${response.statusCode} ${response.body.slice(0, 200)}`,
      );
      continue;
    }
    const problem = holdsToDocument(ajv, route, method, response);
    if (problem) wrong.push(problem);
    answered[`${method} ${request.url}`] = response.headers['content-type'];
  }
  assert.deepEqual(wrong, []);
  // The documents' 200s were met with data in them, not only empty lists.
  const checks = (await app.inject({ url: '/api/v1/checks', headers: asViewer })).json();
  assert.equal(checks.checks[0].states.inside.state, 'DOWN');
  const incidents = (await app.inject({ url: '/api/v1/checks/shop/incidents', headers: asViewer })).json();
  assert.equal(incidents.incidents.length, 1);
  const locations = (await app.inject({ url: '/api/v1/locations', headers: asViewer })).json();
  assert.equal(locations.locations[0].workers.length, 1);
  const captures = (await app.inject({ url: '/api/v1/captures', headers: asOperator })).json();
  assert.equal(captures.captures.length, 1);
});

test('bad input keeps its one-line 400 naming the parameter and what was expected', async () => {
  const message = async (request: InjectOptions) => {
    const response = await app.inject(request);
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().error.code, 'BAD_REQUEST');
    return response.json().error.message as string;
  };
  assert.equal(
    await message({ url: '/api/v1/checks/shop/runs?limit=abc', headers: asViewer }),
    'query parameter "limit" must be an integer from 1 to 1000, got "abc"',
  );
  assert.equal(
    await message({ url: '/api/v1/checks/shop/rollups?hours=1&x=2', headers: asViewer }),
    'unknown query parameter "x"; this route takes hours',
  );
  assert.match(
    await message({ url: '/api/v1/runs/..x/bundle', headers: asOperator }),
    /^path parameter "runId" must be letters, digits, "-", "_" or "\." \(at most 100, starting with a letter or digit, without "\.\."\), got "\.\.x"$/,
  );
  assert.equal(
    await message({
      method: 'POST',
      url: '/api/v1/runs/run1/capture',
      headers: asOperator,
      payload: { unfiltered: 'yes' },
    }),
    'body field "unfiltered" must be true or false, got "yes"',
  );
  assert.equal(
    await message({
      method: 'POST',
      url: '/api/v1/runs/run1/capture',
      headers: asOperator,
      payload: { all: true },
    }),
    'unknown body field "all"',
  );
});

test('the docs page loads, and its scripts and styles load with the CSP header present', async () => {
  const page = await app.inject({ url: '/api/docs' });
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers['content-type']), /^text\/html/);
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'(;|$)/, 'scripts from this origin only, no inline script');
  const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
  const scripts = assets.filter((asset) => asset.endsWith('.js'));
  assert.ok(scripts.length >= 3, `scripts: ${scripts.join(', ')}`);
  assert.ok(!/<script>[^<]/.test(page.body), 'no inline script');
  for (const asset of assets) {
    assert.match(asset, /^\/api\/docs\/static\//, 'every asset from this origin');
    const response = await app.inject({ url: asset });
    assert.equal(response.statusCode, 200, asset);
    assert.ok(response.body.length > 0, asset);
    assert.equal(response.headers['content-security-policy'], csp, asset);
    if (asset.endsWith('.js')) assert.match(String(response.headers['content-type']), /javascript/, asset);
  }
});

test('an answer its schema does not describe is caught against the document, and still sent whole', async () => {
  // A route that answers one field more than its schema says, in an app with the API's compilers.
  const warnings: string[] = [];
  const probe = Fastify();
  probe.setValidatorCompiler(zodValidatorCompiler);
  probe.setSerializerCompiler(
    responseSerializerCompiler({ warn: (_context: object, message: string) => warnings.push(message) }),
  );
  await registerOpenApiCollector(probe);
  probe.get(
    '/drifted',
    { schema: { response: { 200: z.strictObject({ status: z.string() }) } } },
    async () => ({ status: 'ok', added: 'undocumented' }),
  );
  await probe.ready();
  const response = await probe.inject({ url: '/drifted' });
  assert.deepEqual(response.json(), { status: 'ok', added: 'undocumented' }, 'no field dropped');
  assert.equal(warnings.length, 1);
  const probeDoc = probe.swagger() as unknown as OpenApiDocument;
  const saved = doc;
  doc = probeDoc;
  try {
    const problem = holdsToDocument(new Ajv2020({ strict: false }), '/drifted', 'GET', response);
    assert.match(problem ?? '', /must NOT have additional properties/);
  } finally {
    doc = saved;
    await probe.close();
  }
});
