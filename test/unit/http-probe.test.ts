import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { closedPort, startHttpServer, startSilentServer, type TestServer } from '../helpers/test-servers.ts';

let server: TestServer;
let silent: TestServer;

before(async () => {
  server = await startHttpServer((request, response) => {
    if (request.url === '/health') {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ status: 'ok', items: [{ sku: 'tea' }] }));
    } else if (request.url === '/boom') {
      response.statusCode = 500;
      response.end('internal error');
    } else if (request.url === '/redirect') {
      response.statusCode = 302;
      response.setHeader('location', '/health');
      response.end();
    } else if (request.url === '/slow') {
      setTimeout(() => response.end('late'), 300);
    } else if (request.url === '/auth') {
      response.statusCode = request.headers.authorization === 'Bearer s3cret-token' ? 200 : 401;
      response.end();
    } else if (request.url === '/loop-a' || request.url === '/loop-b') {
      // A → B → A: the second visit of A would answer as the first did, for ever.
      response.statusCode = 302;
      response.setHeader('location', request.url === '/loop-a' ? '/loop-b' : '/loop-a');
      response.end();
    } else if (request.url?.startsWith('/chain/')) {
      // /chain/1 → /chain/2 → … : a new URL every time, never an answer.
      response.statusCode = 301;
      response.setHeader('location', `/chain/${Number(request.url.slice('/chain/'.length)) + 1}`);
      response.end();
    } else {
      response.statusCode = 404;
      response.end();
    }
  });
  silent = await startSilentServer();
});

after(async () => {
  await server.close();
  await silent.close();
});

test('a healthy endpoint passes with phase timings and its peer', async () => {
  const result = await runCheckFromConfig({
    kind: 'http',
    http: {
      url: `${server.url}/health`,
      expect: {
        status: 200,
        json: [
          { path: '$.status', equals: 'ok' },
          { path: '$.items[0].sku', equals: 'tea' },
        ],
      },
    },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.phases.dns, undefined, 'an IP literal needs no dns lookup');
  for (const phase of ['connect', 'firstByte', 'download', 'total'] as const) {
    assert.equal(typeof result.phases[phase], 'number', `phase ${phase} is measured`);
  }
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: server.port }]);
  assert.equal(result.details?.statusCode, 200);
});

test('a host name is looked up and the dns phase is measured', async () => {
  const result = await runCheckFromConfig({
    kind: 'http',
    http: { url: `http://localhost:${server.port}/health`, ipVersion: 4 },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.dns, 'number');
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: server.port }]);
});

test('a 500 fails with an assertion that shows expected and actual', async () => {
  const result = await runCheckFromConfig({ kind: 'http', http: { url: `${server.url}/boom` } });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'HTTP_STATUS');
  assert.equal(result.error?.message, `GET ${server.url}/boom: status 2xx: expected 2xx, got 500`);
});

test('a refused port fails with class refused', async () => {
  const port = await closedPort();
  const result = await runCheckFromConfig({ kind: 'http', http: { url: `http://127.0.0.1:${port}/` } });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  assert.equal(result.error?.message, `connect to 127.0.0.1:${port} refused`);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port }]);
});

test('a server that accepts and never answers times out in the first-byte phase', async () => {
  const result = await runCheckFromConfig({
    kind: 'http',
    timeout: '300ms',
    http: { url: `${silent.url}/` },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'TIMEOUT');
  assert.equal(result.error?.phase, 'firstByte');
  assert.equal(
    result.error?.message,
    `127.0.0.1:${silent.port} accepted the connection but sent no response within 300 ms`,
  );
  assert.ok(result.phases.total >= 290 && result.phases.total < 2000, `total ${result.phases.total}`);
});

test('redirects are followed, or not, as configured', async () => {
  const followed = await runCheckFromConfig({ kind: 'http', http: { url: `${server.url}/redirect` } });
  assert.equal(followed.status, 'pass');
  assert.equal(followed.details?.redirects, 1);
  const kept = await runCheckFromConfig({
    kind: 'http',
    http: { url: `${server.url}/redirect`, followRedirects: false, expect: { status: 302 } },
  });
  assert.equal(kept.status, 'pass', kept.error?.message);
});

test('slower than the degraded limit is degraded; slower than the limit fails', async () => {
  const degraded = await runCheckFromConfig({
    kind: 'http',
    http: { url: `${server.url}/slow`, expect: { degradedResponseTime: '100ms' } },
  });
  assert.equal(degraded.status, 'degraded');
  const failed = await runCheckFromConfig({
    kind: 'http',
    http: { url: `${server.url}/slow`, expect: { maxResponseTime: '100ms' } },
  });
  assert.equal(failed.status, 'fail');
  assert.equal(failed.error?.code, 'SLOW_RESPONSE');
  assert.match(failed.error?.message ?? '', /response time under 100 ms: expected <= 100 ms, got \d+ ms/);
});

test('a bearer token comes from the environment and never appears in the result', async () => {
  const result = await runCheckFromConfig(
    { kind: 'http', auth: { bearer: '${env:SHOP_TOKEN}' }, http: { url: `${server.url}/auth` } },
    { SHOP_TOKEN: 's3cret-token' },
  );
  assert.equal(result.status, 'pass', result.error?.message);
  assert.ok(!JSON.stringify(result).includes('s3cret-token'));
});

test('a redirect loop A → B → A fails as REDIRECT_LOOP with the chain, not as a 302', async () => {
  const result = await runCheckFromConfig({ kind: 'http', http: { url: `${server.url}/loop-a` } });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'protocol');
  assert.equal(result.error?.code, 'REDIRECT_LOOP');
  assert.equal(
    result.error?.message,
    `redirect loop: ${server.url}/loop-a (302) → ${server.url}/loop-b (302) → ${server.url}/loop-a`,
  );
  assert.equal(result.details?.redirects, 1, 'stopped at the first repeat, not after 10 hops');
});

test('more redirects than the limit fail as TOO_MANY_REDIRECTS naming the limit', async () => {
  const result = await runCheckFromConfig({
    kind: 'http',
    http: { url: `${server.url}/chain/1`, followRedirects: 3 },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.code, 'TOO_MANY_REDIRECTS');
  assert.equal(
    result.error?.message,
    `more than 3 redirects (followRedirects): ${[1, 2, 3, 4].map((n) => `${server.url}/chain/${n} (301)`).join(' → ')} → ${server.url}/chain/5`,
  );
  assert.equal(result.details?.redirects, 3);
  const long = await runCheckFromConfig({ kind: 'http', http: { url: `${server.url}/chain/1` } });
  assert.equal(long.error?.code, 'TOO_MANY_REDIRECTS');
  assert.match(
    long.error?.message ?? '',
    /^more than 10 redirects \(followRedirects\): .*\/chain\/3 \(301\) → … 6 more … → .*\/chain\/12$/,
  );
});

test('a 401 after sending credentials is a rejected login: class auth, naming the scheme sent', async () => {
  const withToken = await runCheckFromConfig(
    { kind: 'http', auth: { bearer: '${env:SHOP_TOKEN}' }, http: { url: `${server.url}/auth` } },
    { SHOP_TOKEN: 'a-wrong-token' },
  );
  assert.equal(withToken.status, 'fail');
  assert.equal(withToken.error?.class, 'auth');
  assert.equal(withToken.error?.code, 'AUTH_REJECTED');
  assert.equal(
    withToken.error?.message,
    `GET ${server.url}/auth: 401 Unauthorized: credentials were sent (bearer) and refused`,
  );
  const basic = await runCheckFromConfig(
    {
      kind: 'http',
      auth: { username: 'demo', password: '${env:SHOP_PASSWORD}' },
      http: { url: `${server.url}/auth` },
    },
    { SHOP_PASSWORD: 'wrong' },
  );
  assert.equal(basic.error?.code, 'AUTH_REJECTED');
  assert.equal(
    basic.error?.message,
    `GET ${server.url}/auth: 401 Unauthorized: credentials were sent (basic) and refused`,
  );
});

test('a 401 without credentials says none were sent and to set auth', async () => {
  const without = await runCheckFromConfig({ kind: 'http', http: { url: `${server.url}/auth` } });
  assert.equal(without.status, 'fail');
  assert.equal(without.error?.class, 'assertion');
  assert.equal(without.error?.code, 'HTTP_STATUS');
  assert.equal(
    without.error?.message,
    `GET ${server.url}/auth: 401 Unauthorized: no credentials were sent; set auth`,
  );
});
