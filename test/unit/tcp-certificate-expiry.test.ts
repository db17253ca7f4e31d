import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { createTestPki, type TestPki } from '../helpers/test-certificates.ts';

// A tcp check over implicit TLS judges the certificate's days left like the tls kind: too
// few is `degraded` once the dialogue has been held, not a failure and not a pass.

let pki: TestPki;
let server: tls.Server;
let port: number;

before(async () => {
  pki = createTestPki();
  server = tls.createServer({ key: pki.expiringSoon.key, cert: pki.expiringSoon.cert }, (socket) => {
    socket.on('error', () => {});
    socket.write('* OK IMAP ready\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('a certificate with fewer days left than warnDays makes a passing tcp dialogue degraded', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    tls: { caRoots: 'replace', ca: pki.ca.certFile, warnDays: 10, failDays: 2 },
    tcp: { host: '127.0.0.1', port, banner: '^\\* OK', tls: true },
  });
  assert.equal(result.status, 'degraded', result.error?.message);
  assert.equal(result.error, undefined);
  assert.equal(result.details?.banner, '* OK IMAP ready', 'the dialogue ran');
  const warning = result.assertions?.find((assertion) => assertion.degraded);
  assert.equal(warning?.name, 'certificate valid for at least 10 days (degraded limit)');
  assert.ok(
    result.assertions?.some((assertion) => assertion.name === 'banner matches /^\\* OK/' && assertion.ok),
  );
});
