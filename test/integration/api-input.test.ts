import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/build-app.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { createRedisConnection } from '../../src/redis/redis-connection.ts';
import { ResultsRecorder } from '../../src/results/results-recorder.ts';
import { deleteKeysWithPrefix, SHARED_REDIS_URL, uniquePrefix } from '../helpers/redis-test-prefix.ts';

const prefix = uniquePrefix('api-input');
let redis: Redis;
let app: FastifyInstance;
let port: number;

before(async () => {
  redis = createRedisConnection(SHARED_REDIS_URL);
  const config = await parseConfig(
    {
      locations: { inside: {}, outside: {} },
      checks: [{ id: 'shop', kind: 'http', http: { url: 'http://127.0.0.1:4601/health' } }],
      redis: { prefix },
    },
    '/tmp/api-input.yaml',
  );
  app = await buildApp({ config, recorder: new ResultsRecorder(redis, config) });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  port = Number(new URL(address).port);
});

after(async () => {
  await app.close();
  await deleteKeysWithPrefix(prefix);
  redis.disconnect();
});

/** The documented error shape, and nothing else in the body. */
function assertErrorShape(body: string, code: string): { code: string; message: string } {
  const parsed = JSON.parse(body) as { error: { code: string; message: string } };
  assert.deepEqual(Object.keys(parsed), ['error'], body);
  assert.deepEqual(Object.keys(parsed.error).sort(), ['code', 'message'], body);
  assert.equal(parsed.error.code, code, body);
  assert.doesNotMatch(parsed.error.message, /\n\s+at |node_modules|\.ts:\d+/, 'no stack trace');
  return parsed.error;
}

/** Sends raw bytes and returns the whole answer (the server closes bad requests). */
function rawRequest(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within 5 s: ${answer.slice(0, 200)}`));
    }, 5000);
    socket.on('data', (chunk) => {
      answer += chunk;
    });
    socket.on('error', () => {}); // the server may reset after answering; the answer is what counts
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.end(request);
  });
}

test('query parameters out of range, not integers, repeated or unknown get a 400 naming the parameter, the range and the value', async () => {
  const cases: Array<[string, RegExp]> = [
    ['runs?limit=Infinity', /"limit" must be an integer from 1 to 1000, got "Infinity"/],
    ['runs?limit=NaN', /"limit" must be an integer from 1 to 1000, got "NaN"/],
    ['runs?limit=-5', /"limit" must be an integer from 1 to 1000, got "-5"/],
    ['runs?limit=0', /"limit" must be an integer from 1 to 1000, got "0"/],
    ['runs?limit=1001', /"limit" must be an integer from 1 to 1000, got "1001"/],
    ['runs?limit=99999999999999999999', /"limit" must be an integer from 1 to 1000/],
    ['runs?limit=1e400', /"limit" must be an integer from 1 to 1000, got "1e400"/],
    ['runs?limit=2.5', /"limit" must be an integer/],
    ['runs?limit=ten', /"limit" must be an integer from 1 to 1000, got "ten"/],
    ['runs?limit=', /"limit" must be an integer/],
    ['runs?limit=5&limit=6', /"limit" must be given once/],
    [
      `runs?location=${'x'.repeat(500)}`,
      /"location" must be at most 100 characters, got "x{10,60}…" \(502 characters\)/,
    ],
    ['runs?limt=5', /unknown query parameter "limt"; this route takes location, limit/],
    ['rollups?hours=9600', /"hours" must be an integer from 1 to 744, got "9600"/],
    ['rollups?hours=Infinity', /"hours" must be an integer from 1 to 744/],
    ['incidents?since=1', /unknown query parameter "since"; this route takes none/],
  ];
  for (const [path, message] of cases) {
    const response = await app.inject({ url: `/api/v1/checks/shop/${path}` });
    assert.equal(response.statusCode, 400, `${path}: ${response.body}`);
    assert.match(assertErrorShape(response.body, 'BAD_REQUEST').message, message, path);
    assert.ok(response.body.length < 300, `${path}: the answer does not repeat the input`);
  }
  const good = await app.inject({ url: '/api/v1/checks/shop/runs?limit=1000&location=inside' });
  assert.equal(good.statusCode, 200, good.body);
});

test('rollups are bounded: the longest span allowed answers with at most 31 days of hourly rows', async () => {
  const response = await app.inject({ url: '/api/v1/checks/shop/rollups?hours=744' });
  assert.equal(response.statusCode, 200);
  const rollups = response.json().rollups as Record<string, unknown[]>;
  assert.deepEqual(Object.keys(rollups).sort(), ['inside', 'outside']);
  assert.equal(rollups.inside.length, 744);
  assert.ok(response.body.length < 200_000, `${response.body.length} bytes`);
  const longer = await app.inject({ url: '/api/v1/checks/shop/rollups?hours=745' });
  assert.equal(longer.statusCode, 400, 'one hour more is refused, not answered');
});

test('a 5 KB URL gets a 414 in the error shape that does not echo it', async () => {
  const long = 'a'.repeat(5000);
  for (const path of [`/api/v1/checks/${long}`, `/api/v1/checks?${long}=1`, `/nope/${long}`]) {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    const body = await response.text();
    assert.equal(response.status, 414, `${path.slice(0, 40)}: ${body.slice(0, 200)}`);
    assertErrorShape(body, 'URI_TOO_LONG');
    assert.ok(!body.includes('a'.repeat(100)), 'the URL is not echoed');
  }
  // One long path segment (over the router's 100 characters) in a URL that is not long.
  const segment = await fetch(`http://127.0.0.1:${port}/api/v1/checks/${'b'.repeat(300)}`);
  const body = await segment.text();
  assert.equal(segment.status, 414, body);
  assertErrorShape(body, 'URI_TOO_LONG');
  assert.ok(!body.includes('b'.repeat(100)), 'the path is not echoed');
});

test('headers over the limit get a 431, and a request that is not HTTP a 400, in the error shape', async () => {
  const big = await rawRequest(
    `GET /api/v1/checks HTTP/1.1\r\nHost: x\r\nX-Big: ${'h'.repeat(20_000)}\r\n\r\n`,
  );
  assert.match(big, /^HTTP\/1\.1 431 /);
  assertErrorShape(big.slice(big.indexOf('\r\n\r\n') + 4), 'HEADERS_TOO_LARGE');
  assert.ok(!big.includes('h'.repeat(100)));
  const broken = await rawRequest('GET /api/v1/checks HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n');
  assert.match(broken, /^HTTP\/1\.1 400 /);
  assertErrorShape(broken.slice(broken.indexOf('\r\n\r\n') + 4), 'BAD_REQUEST');
});

test('a body over the limit gets a 413, bad JSON a 400, an unknown route a 404, all in the error shape', async () => {
  const tooLarge = await fetch(`http://127.0.0.1:${port}/api/v1/runs/x/capture`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ unfiltered: 'y'.repeat(2_000_000) }),
  });
  const tooLargeBody = await tooLarge.text();
  assert.equal(tooLarge.status, 413);
  assert.match(assertErrorShape(tooLargeBody, 'BODY_TOO_LARGE').message, /larger than 1048576 bytes/);
  const badJson = await app.inject({
    method: 'POST',
    url: '/api/v1/runs/x/capture',
    headers: { 'content-type': 'application/json' },
    payload: '{"unfiltered": tru',
  });
  assert.equal(badJson.statusCode, 400);
  assertErrorShape(badJson.body, 'BAD_REQUEST');
  const missing = await app.inject({ url: `/no/such/route/${'z'.repeat(90)}` });
  assert.equal(missing.statusCode, 404);
  assert.match(
    assertErrorShape(missing.body, 'NOT_FOUND').message,
    /no route GET "\/no\/such\/route\/z+…" \(\d+ characters\)/,
  );
});

test('a 500 names no internals: the error shape with the request id, no stack, no Redis reply', async () => {
  // A key of the wrong type makes Redis itself refuse the command (WRONGTYPE).
  await redis.set(`${prefix}:runs:shop`, 'not a sorted set');
  const response = await app.inject({ url: '/api/v1/checks/shop/runs' });
  assert.equal(response.statusCode, 500);
  const error = assertErrorShape(response.body, 'INTERNAL');
  assert.match(error.message, /^internal error \(request \S+\)$/);
  assert.doesNotMatch(response.body, /WRONGTYPE|ReplyError|redis/i);
  await redis.del(`${prefix}:runs:shop`);
});
