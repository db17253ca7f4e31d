import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunResult } from '../../src/results/run-result.ts';
import { type DualStackName, dualStackName } from '../helpers/dual-stack-name.ts';
import { createTestPki, type TestPki } from '../helpers/test-certificates.ts';
import { startHttpServer, type TestServer } from '../helpers/test-servers.ts';

/**
 * The http and crawl kinds connect through the one dialer: `dual.test` resolves to ::1 first
 * (nothing listens there, the connect is refused) and 127.0.0.1 second, where the servers
 * run. Both addresses are tried and both are peers (a capture is cut to both flows).
 *
 * As in dial-every-address.test.ts, the name comes from a hosts file bind-mounted over
 * /etc/hosts in a private mount namespace (`unshare --mount`) in which `pathwatch run` is
 * started; the machine's own /etc/hosts is never touched.
 */

const NAME = 'dual.test';
let workDir: string;
let dual: DualStackName;
let site: TestServer;
let pki: TestPki;
let secure: http2.Http2SecureServer;
let securePort: number;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'pathwatch-http-dial-'));
  dual = dualStackName(workDir, NAME);
  site = await startHttpServer((request, response) => {
    response.setHeader('content-type', 'text/html');
    if (request.url === '/') response.end('<a href="/about">about</a>');
    else if (request.url === '/about') response.end('about us');
    else {
      response.statusCode = 404;
      response.end();
    }
  });
  pki = createTestPki();
  secure = http2.createSecureServer(
    { key: pki.valid.key, cert: pki.valid.cert, allowHTTP1: true },
    (request, response) => response.end(`hello over ${request.httpVersion}`),
  );
  secure.on('tlsClientError', () => {});
  secure.listen(0, '127.0.0.1');
  await once(secure, 'listening');
  securePort = (secure.address() as AddressInfo).port;
});

after(async () => {
  await site.close();
  await new Promise<void>((resolve) => {
    secure.close(() => resolve());
    setTimeout(resolve, 500).unref();
  });
  rmSync(workDir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

/** `pathwatch run <id> --json` inside the mount namespace where `dual.test` has two addresses. */
async function runInNamespace(check: Record<string, unknown>): Promise<RunResult> {
  const { stdout, stderr } = await dual.run(check);
  assert.ok(stdout.trim().startsWith('{'), `pathwatch run printed no result:\n${stdout}\n${stderr}`);
  return JSON.parse(stdout);
}

function assertBothAddressesTried(result: RunResult, port: number): void {
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(result.peers.slice(0, 2), [
    { ip: '::1', port },
    { ip: '127.0.0.1', port },
  ]);
  assert.equal(typeof result.phases.dns, 'number', 'the lookup is timed');
  assert.equal(typeof result.phases.connect, 'number', 'the connects are timed');
}

test('http: a name whose first address refuses connects to the second', async (t) => {
  if (dual.unavailable) return t.skip(dual.unavailable);
  const result = await runInNamespace({
    id: 'http-dual',
    kind: 'http',
    timeout: '5s',
    http: { url: `http://${NAME}:${site.port}/about`, expect: { bodyContains: ['about us'] } },
  });
  assertBothAddressesTried(result, site.port);
  assert.equal(result.details?.httpVersion, '1.1');
});

test('https over HTTP/2: the second address is used and TLS runs over the dialed socket', async (t) => {
  if (dual.unavailable) return t.skip(dual.unavailable);
  const result = await runInNamespace({
    id: 'https-dual',
    kind: 'http',
    timeout: '5s',
    tls: { ca: pki.ca.certFile, caRoots: 'replace', serverName: 'localhost' },
    http: { url: `https://${NAME}:${securePort}/`, expect: { bodyContains: ['hello over 2.0'] } },
  });
  assertBothAddressesTried(result, securePort);
  assert.equal(result.details?.httpVersion, '2.0');
  assert.equal(typeof result.phases.tls, 'number', 'the handshake is timed');
});

test('crawl: a name whose first address refuses crawls through the second', async (t) => {
  if (dual.unavailable) return t.skip(dual.unavailable);
  const result = await runInNamespace({
    id: 'crawl-dual',
    kind: 'crawl',
    timeout: '5s',
    crawl: { url: `http://${NAME}:${site.port}/` },
  });
  assertBothAddressesTried(result, site.port);
});
