import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { createTestPki, type TestCertificate, type TestPki } from '../helpers/test-certificates.ts';
import { closedPort, startSilentServer, type TestServer } from '../helpers/test-servers.ts';

interface TlsTestServer {
  port: number;
  /** SNI names clients sent, in order; a client that sent none adds nothing. */
  serverNames: string[];
  close(): Promise<void>;
}

async function listen(server: Server): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TLS server presenting `certificate` (plus `chain`), recording the SNI each client sent. */
async function startTlsServer(
  certificate: TestCertificate,
  options: { chain?: string; minVersion?: tls.SecureVersion; maxVersion?: tls.SecureVersion } = {},
): Promise<TlsTestServer> {
  const serverNames: string[] = [];
  const server = tls.createServer(
    {
      key: certificate.key,
      cert: options.chain ? `${certificate.cert}${options.chain}` : certificate.cert,
      minVersion: options.minVersion,
      maxVersion: options.maxVersion,
      // Lets a test server speak an old protocol, so the probe can report it as too old.
      ciphers: options.minVersion === 'TLSv1' ? 'DEFAULT:@SECLEVEL=0' : undefined,
      // Called while reading the ClientHello, so before the client can finish its handshake.
      SNICallback: (name, done) => {
        serverNames.push(name);
        done(null, undefined);
      },
    },
    (socket) => {
      socket.on('error', () => {});
      socket.end();
    },
  );
  return { ...(await listen(server)), serverNames };
}

function day(pem: string): string {
  return new Date(new X509Certificate(pem).validTo).toISOString().slice(0, 10);
}

let pki: TestPki;
let valid: TlsTestServer;
let validWithRoot: TlsTestServer;
let expired: TlsTestServer;
let wrongHost: TlsTestServer;
let expiringSoon: TlsTestServer;
let tls12Only: TlsTestServer;
let tls11Only: TlsTestServer;
let silent: TestServer;
let hangUp: { port: number; close(): Promise<void> };

before(async () => {
  pki = createTestPki();
  valid = await startTlsServer(pki.valid);
  validWithRoot = await startTlsServer(pki.valid, { chain: pki.ca.cert });
  expired = await startTlsServer(pki.expired);
  wrongHost = await startTlsServer(pki.wrongHost);
  expiringSoon = await startTlsServer(pki.expiringSoon);
  tls12Only = await startTlsServer(pki.valid, { maxVersion: 'TLSv1.2' });
  tls11Only = await startTlsServer(pki.valid, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1' });
  silent = await startSilentServer();
  hangUp = await listen(createServer((socket) => socket.end()));
});

after(async () => {
  for (const server of [
    valid,
    validWithRoot,
    expired,
    wrongHost,
    expiringSoon,
    tls12Only,
    tls11Only,
    silent,
    hangUp,
  ]) {
    await server?.close();
  }
});

test('a valid certificate passes, with the certificate and session in the details', async () => {
  const result = await runCheckFromConfig({
    kind: 'tls',
    tls: { host: '127.0.0.1', port: valid.port, caRoots: 'replace', ca: pki.ca.certFile },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.phases.dns, undefined);
  assert.equal(typeof result.phases.connect, 'number');
  assert.equal(typeof result.phases.tls, 'number');
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: valid.port }]);
  const x509 = new X509Certificate(pki.valid.cert);
  const certificate = result.details?.certificate as Record<string, unknown>;
  assert.equal(certificate.subject, 'CN=localhost');
  assert.equal(certificate.issuer, 'CN=pathwatch test CA');
  assert.deepEqual(certificate.subjectAltNames, ['DNS:localhost', 'IP:127.0.0.1', 'IP:0:0:0:0:0:0:0:1']);
  assert.equal(certificate.validTo, new Date(x509.validTo).toISOString());
  assert.equal(certificate.validFrom, new Date(x509.validFrom).toISOString());
  assert.ok(certificate.daysLeft === 24 || certificate.daysLeft === 25, `daysLeft ${certificate.daysLeft}`);
  assert.equal(certificate.fingerprint256, x509.fingerprint256);
  assert.equal(result.details?.protocol, 'TLSv1.3');
  assert.equal(result.details?.cipher, 'TLS_AES_256_GCM_SHA384');
  assert.equal(result.details?.authorized, true);
  assert.ok(result.assertions?.every((assertion) => assertion.ok));
  assert.deepEqual(valid.serverNames, [], 'no SNI for an IP address');
});

test('a host name is looked up, sent as SNI and checked against the certificate', async () => {
  const result = await runCheckFromConfig({
    kind: 'tls',
    tls: { host: 'localhost', port: valid.port, ipVersion: 4, caRoots: 'replace', ca: pki.ca.certFile },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.dns, 'number');
  assert.equal(valid.serverNames.at(-1), 'localhost');
  assert.equal(result.details?.serverName, 'localhost');
});

test('an expired certificate fails with class tls and is still described', async () => {
  const result = await runCheckFromConfig({
    kind: 'tls',
    tls: { host: '127.0.0.1', port: expired.port, caRoots: 'replace', ca: pki.ca.certFile },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'tls');
  assert.equal(result.error?.code, 'TLS_EXPIRED');
  assert.equal(result.error?.phase, 'tls');
  assert.equal(
    result.error?.message,
    `certificate for localhost expired 365 days ago (valid to ${day(pki.expired.cert)})`,
  );
  const certificate = result.details?.certificate as Record<string, unknown>;
  // Counted like the message: "expired 365 days ago" is daysLeft -365, never -366.
  assert.equal(certificate.daysLeft, -365);
  assert.equal(result.details?.authorizationError, 'CERT_HAS_EXPIRED');
});

test('a certificate for another host fails naming both names', async () => {
  const result = await runCheckFromConfig({
    kind: 'tls',
    tls: { host: '127.0.0.1', port: wrongHost.port, caRoots: 'replace', ca: pki.ca.certFile },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'tls');
  assert.equal(result.error?.code, 'TLS_HOSTNAME');
  assert.equal(result.error?.message, 'certificate is for wrong.example, not 127.0.0.1');
  assert.equal(
    (result.details?.certificate as { subject?: string } | undefined)?.subject,
    'CN=wrong.example',
  );
});

test('a chain that cannot be tied to a trusted CA fails naming the issuer', async () => {
  const leafOnly = await runCheckFromConfig({ kind: 'tls', tls: { host: '127.0.0.1', port: valid.port } });
  assert.equal(leafOnly.error?.class, 'tls');
  assert.equal(leafOnly.error?.code, 'TLS_UNTRUSTED');
  assert.equal(
    leafOnly.error?.message,
    'certificate for localhost is not trusted: its chain ends at "pathwatch test CA", which is not among the system CAs (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
  );
});

test('a chain ending in an untrusted root fails naming the issuer', async () => {
  const result = await runCheckFromConfig({
    kind: 'tls',
    tls: { host: '127.0.0.1', port: validWithRoot.port },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'tls');
  assert.equal(result.error?.code, 'TLS_UNTRUSTED');
  assert.equal(
    result.error?.message,
    'certificate for localhost is not trusted: its chain ends at "pathwatch test CA", which is not among the system CAs (SELF_SIGNED_CERT_IN_CHAIN)',
  );
  assert.deepEqual((result.details?.certificate as { chain?: unknown[] } | undefined)?.chain, [
    {
      subject: 'CN=pathwatch test CA',
      issuer: 'CN=pathwatch test CA',
      validTo: new Date(new X509Certificate(pki.ca.cert).validTo).toISOString(),
    },
  ]);
});

test('fewer days left than warnDays is degraded; fewer than failDays fails', async () => {
  const degraded = await runCheckFromConfig({
    kind: 'tls',
    tls: {
      host: '127.0.0.1',
      port: expiringSoon.port,
      caRoots: 'replace',
      ca: pki.ca.certFile,
      warnDays: 10,
      failDays: 2,
    },
  });
  assert.equal(degraded.status, 'degraded', degraded.error?.message);
  assert.equal(degraded.error, undefined);
  const warning = degraded.assertions?.find((assertion) => assertion.degraded);
  assert.equal(warning?.name, 'certificate valid for at least 10 days (degraded limit)');
  assert.equal(warning?.ok, false);
  assert.equal(warning?.expected, '>= 10 days');
  assert.match(String(warning?.actual), /^[45] days$/);

  const failed = await runCheckFromConfig({
    kind: 'tls',
    tls: {
      host: '127.0.0.1',
      port: expiringSoon.port,
      caRoots: 'replace',
      ca: pki.ca.certFile,
      failDays: 10,
    },
  });
  assert.equal(failed.status, 'fail');
  assert.equal(failed.error?.class, 'assertion');
  assert.equal(failed.error?.code, 'CERT_EXPIRES_SOON');
  assert.match(
    failed.error?.message ?? '',
    new RegExp(
      `^certificate for localhost expires in [45] days \\(valid to ${day(pki.expiringSoon.cert)}\\): expected at least 10 days left \\(failDays\\)$`,
    ),
  );
});

test('a protocol older than minVersion fails with expected and negotiated versions', async () => {
  const tooOld = await runCheckFromConfig({
    kind: 'tls',
    tls: { host: '127.0.0.1', port: tls11Only.port, caRoots: 'replace', ca: pki.ca.certFile },
  });
  assert.equal(tooOld.status, 'fail');
  assert.equal(tooOld.error?.class, 'assertion');
  assert.equal(tooOld.error?.code, 'TLS_POLICY');
  assert.equal(tooOld.error?.message, 'TLS protocol: expected TLSv1.2 or newer, got TLSv1.1');
  const notNewest = await runCheckFromConfig({
    kind: 'tls',
    tls: {
      host: '127.0.0.1',
      port: tls12Only.port,
      caRoots: 'replace',
      ca: pki.ca.certFile,
      minVersion: 'TLSv1.3',
    },
  });
  assert.equal(notNewest.error?.message, 'TLS protocol: expected TLSv1.3 or newer, got TLSv1.2');
});

test('the issuer is matched as a substring or a /regex/', async () => {
  const matching = await runCheckFromConfig({
    kind: 'tls',
    tls: {
      host: '127.0.0.1',
      port: valid.port,
      caRoots: 'replace',
      ca: pki.ca.certFile,
      issuer: 'PATHWATCH test',
    },
  });
  assert.equal(matching.status, 'pass', matching.error?.message);
  const other = await runCheckFromConfig({
    kind: 'tls',
    tls: {
      host: '127.0.0.1',
      port: valid.port,
      caRoots: 'replace',
      ca: pki.ca.certFile,
      issuer: "/^Let's Encrypt$/",
    },
  });
  assert.equal(other.status, 'fail');
  assert.equal(other.error?.class, 'assertion');
  assert.equal(other.error?.code, 'TLS_POLICY');
  assert.equal(
    other.error?.message,
    'certificate issuer: expected /^Let\'s Encrypt$/, got "CN=pathwatch test CA"',
  );
});

test('verify: false skips trust and host name but still applies the days limits', async () => {
  const wrongName = await runCheckFromConfig({
    kind: 'tls',
    tls: { host: '127.0.0.1', port: wrongHost.port, verify: false },
  });
  assert.equal(wrongName.status, 'pass', wrongName.error?.message);
  const stale = await runCheckFromConfig({
    kind: 'tls',
    tls: { host: '127.0.0.1', port: expired.port, verify: false },
  });
  assert.equal(stale.status, 'fail');
  assert.equal(stale.error?.class, 'assertion');
  assert.equal(stale.error?.code, 'CERT_EXPIRES_SOON');
  assert.equal(
    stale.error?.message,
    `certificate for localhost expired 365 days ago (valid to ${day(pki.expired.cert)}): expected at least 7 days left (failDays)`,
  );
});

test('a server that accepts TCP and never answers the ClientHello times out in the tls phase', async () => {
  const result = await runCheckFromConfig({
    kind: 'tls',
    timeout: '300ms',
    tls: { host: '127.0.0.1', port: silent.port },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'TIMEOUT');
  assert.equal(result.error?.phase, 'tls');
  assert.equal(result.error?.message, `TLS handshake with 127.0.0.1:${silent.port} timed out after 300 ms`);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: silent.port }]);
});

test('a server that hangs up during the handshake fails with class reset', async () => {
  const result = await runCheckFromConfig({ kind: 'tls', tls: { host: '127.0.0.1', port: hangUp.port } });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'reset');
  assert.equal(result.error?.code, 'CONNECTION_RESET');
  assert.equal(result.error?.phase, 'tls');
  assert.equal(
    result.error?.message,
    `connection to 127.0.0.1:${hangUp.port} was reset by the server during TLS handshake`,
  );
});

test('a refused port fails with class refused', async () => {
  const port = await closedPort();
  const result = await runCheckFromConfig({ kind: 'tls', tls: { host: '127.0.0.1', port } });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  assert.equal(result.error?.message, `connect to 127.0.0.1:${port} refused`);
});
