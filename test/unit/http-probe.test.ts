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
  assert.equal(result.error?.message, `GET ${server.url}/boom: status 2xx: expected 2xx, got 500`);
});

test('a refused port fails with class refused', async () => {
  const port = await closedPort();
  const result = await runCheckFromConfig({ kind: 'http', http: { url: `http://127.0.0.1:${port}/` } });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
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
