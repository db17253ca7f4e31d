import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runCheck } from '../../src/checks/run-check.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { createTestPki, type TestPki } from '../helpers/test-certificates.ts';

// The http probe speaks HTTP/2 where an https server offers it by ALPN (and says so in
// details.httpVersion), HTTP/1.1 when told not to; and its `tls` block is compiled once per
// loaded config, not read on every run.

let pki: TestPki;
let server: http2.Http2SecureServer;
let port: number;
let workDir: string;
/** The protocol each request arrived over, by path, as the server saw it. */
const seen: Array<{ path: string; httpVersion: string }> = [];

before(async () => {
  pki = createTestPki();
  workDir = mkdtempSync(join(tmpdir(), 'pathwatch-h2-'));
  server = http2.createSecureServer(
    { key: pki.valid.key, cert: pki.valid.cert, allowHTTP1: true },
    (request, response) => {
      seen.push({ path: request.url, httpVersion: request.httpVersion });
      if (request.url === '/old') {
        response.statusCode = 302;
        response.setHeader('location', '/new');
        response.end();
      } else if (request.url === '/echo') {
        let text = '';
        request.setEncoding('utf8');
        request.on('data', (chunk: string) => {
          text += chunk;
        });
        request.on('end', () => response.end(`${request.method} ${text}`));
      } else if (request.url === '/never') {
        // Headers never come: the run must end on its timeout, naming the phase.
      } else {
        response.setHeader('content-type', 'text/plain');
        response.end(`hello over ${request.httpVersion}`);
      }
    },
  );
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    // An h2 session stays open until closed; the runs destroy theirs, this is belt and braces.
    setTimeout(resolve, 500).unref();
  });
  rmSync(workDir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

function httpsCheck(path: string, http: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'http',
    tls: { ca: pki.ca.certFile, caRoots: 'replace' },
    http: { url: `https://localhost:${port}${path}`, ...http },
  };
}

test('an https server offering h2 is spoken to over HTTP/2, and the result says 2.0', async () => {
  const result = await runCheckFromConfig(
    httpsCheck('/hello', { expect: { bodyContains: ['hello over 2.0'] } }),
  );
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.details?.httpVersion, '2.0');
  assert.equal(seen.at(-1)?.httpVersion, '2.0', 'the server saw HTTP/2');
  for (const phase of ['dns', 'connect', 'tls', 'firstByte', 'download'] as const)
    assert.equal(typeof result.phases[phase], 'number', `phase ${phase} is measured`);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port }]);
  assert.ok(result.details?.tls, 'the handshake is recorded');
  assert.ok(result.details?.certificate, 'the certificate is recorded');
});

test('http2: false offers only http/1.1 and the result says 1.1', async () => {
  const result = await runCheckFromConfig(
    httpsCheck('/hello', { http2: false, expect: { bodyContains: ['hello over 1.1'] } }),
  );
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.details?.httpVersion, '1.1');
  assert.equal(seen.at(-1)?.httpVersion, '1.1', 'the server saw HTTP/1.1');
});

test('a redirect over HTTP/2 is followed, and a body is sent', async () => {
  const redirected = await runCheckFromConfig(httpsCheck('/old'));
  assert.equal(redirected.status, 'pass', redirected.error?.message);
  assert.equal(redirected.details?.redirects, 1);
  assert.equal(redirected.details?.url, `https://localhost:${port}/new`);
  assert.equal(redirected.details?.httpVersion, '2.0');
  assert.deepEqual(
    seen.slice(-2).map((entry) => `${entry.path} ${entry.httpVersion}`),
    ['/old 2.0', '/new 2.0'],
  );

  const posted = await runCheckFromConfig(
    httpsCheck('/echo', { method: 'POST', body: 'tea=green', expect: { bodyContains: ['POST tea=green'] } }),
  );
  assert.equal(posted.status, 'pass', posted.error?.message);
  assert.equal(posted.details?.httpVersion, '2.0');
});

test('an HTTP/2 answer that never comes times out in the firstByte phase', async () => {
  const result = await runCheckFromConfig({ ...httpsCheck('/never'), timeout: '700ms' });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout', result.error?.message);
  assert.equal(result.error?.phase, 'firstByte', result.error?.message);
});

/** Parses the config once, so both runs get the same check object (as the scheduler does). */
async function loadOnce(check: Record<string, unknown>): Promise<() => Promise<RunResult>> {
  const config = await parseConfig(
    { locations: { local: {} }, checks: [{ id: 'compiled-once', ...check }] },
    join(workDir, 'pathwatch.config.yaml'),
    {},
  );
  return () =>
    runCheck(config.checks[0], { location: 'local', secrets: config.secrets, configDir: config.dir });
}

test('the CA file is read once per loaded config: deleted after the first run, the second still passes', async () => {
  const caFile = join(workDir, 'read-once-ca.pem');
  copyFileSync(pki.ca.certFile, caFile);
  const run = await loadOnce({
    kind: 'http',
    tls: { ca: 'read-once-ca.pem', caRoots: 'replace' },
    http: { url: `https://localhost:${port}/hello` },
  });
  const first = await run();
  assert.equal(first.status, 'pass', first.error?.message);
  rmSync(caFile);
  const second = await run();
  assert.equal(second.status, 'pass', second.error?.message);
});

test('an unreadable CA file is a config error on the first run and on the second', async () => {
  const caFile = join(workDir, 'unreadable-ca.pem');
  copyFileSync(pki.ca.certFile, caFile); // present while the config is checked
  const run = await loadOnce({
    kind: 'http',
    tls: { ca: 'unreadable-ca.pem', caRoots: 'replace' },
    http: { url: `https://localhost:${port}/hello` },
  });
  rmSync(caFile);
  for (const attempt of ['first', 'second']) {
    const result = await run();
    assert.equal(result.status, 'error', `${attempt} run: ${result.error?.message}`);
    assert.equal(result.error?.class, 'config', `${attempt} run: ${result.error?.message}`);
    assert.equal(result.error?.message, `tls.ca: cannot read ${caFile} (ENOENT)`);
    assert.deepEqual(result.peers, [], `${attempt} run: nothing is sent`);
  }
  // Once the file is back the same config object reads it: a failure is never kept.
  copyFileSync(pki.ca.certFile, caFile);
  const recovered = await run();
  assert.equal(recovered.status, 'pass', recovered.error?.message);
});

test('a client certificate and key that do not match are a config error naming the certificate', async () => {
  const run = await loadOnce({
    kind: 'http',
    tls: { cert: pki.valid.certFile, key: pki.expired.keyFile },
    http: { url: `https://localhost:${port}/hello` },
  });
  const result = await run();
  assert.equal(result.status, 'error', result.error?.message);
  assert.equal(result.error?.class, 'config', result.error?.message);
  assert.match(result.error?.message ?? '', new RegExp(`^tls\\.cert: cannot read ${pki.valid.certFile} \\(`));
  assert.deepEqual(result.peers, [], 'nothing is sent');
});
