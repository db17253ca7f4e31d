import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import tls, { rootCertificates } from 'node:tls';
import { tlsConnection } from '../../src/checks/certificate-options.ts';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { SecretResolver } from '../../src/config/secret-resolver.ts';
import { tlsSettingsSchema } from '../../src/config/tls-settings.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { issueClientCertificate } from '../helpers/client-certificate.ts';
import { createTestPki, type TestCertificate, type TestPki } from '../helpers/test-certificates.ts';

// The one `tls` block, as every kind that speaks TLS takes it: trusted CAs added to or
// replacing the system roots, client certificates, expiry limits, and what a missing file is.

interface Served {
  port: number;
  close(): Promise<void>;
}

async function serve(server: tls.Server | https.Server): Promise<Served> {
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        (server as https.Server).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** An https server answering 200 "ok", optionally requiring a client certificate from `clientCa`. */
function httpsServer(certificate: TestCertificate, clientCa?: string): Promise<Served> {
  return serve(
    https.createServer(
      {
        key: certificate.key,
        cert: certificate.cert,
        ...(clientCa ? { requestCert: true, rejectUnauthorized: true, ca: clientCa } : {}),
      },
      (request, response) => {
        const peer = (request.socket as tls.TLSSocket).getPeerCertificate();
        response.end(`ok ${peer?.subject?.CN ?? 'anonymous'}`);
      },
    ),
  );
}

/** A TLS line server greeting with "* OK", optionally requiring a client certificate from `clientCa`. */
function tlsLineServer(certificate: TestCertificate, clientCa?: string): Promise<Served> {
  return serve(
    tls.createServer(
      {
        key: certificate.key,
        cert: certificate.cert,
        ...(clientCa ? { requestCert: true, rejectUnauthorized: true, ca: clientCa } : {}),
      },
      (socket) => {
        socket.on('error', () => {});
        socket.end(`* OK ${socket.getPeerCertificate()?.subject?.CN ?? 'anonymous'}\r\n`);
      },
    ),
  );
}

let pki: TestPki;
let otherPki: TestPki;
let client: TestCertificate;
let site: Served;
let otherSite: Served;
let expiredSite: Served;
let soonSite: Served;
let mtlsSite: Served;
let mtlsLine: Served;
let line: Served;
let otherLine: Served;

before(async () => {
  pki = createTestPki();
  otherPki = createTestPki();
  client = issueClientCertificate(pki);
  site = await httpsServer(pki.valid);
  otherSite = await httpsServer(otherPki.valid);
  expiredSite = await httpsServer(pki.expired);
  soonSite = await httpsServer(pki.expiringSoon);
  mtlsSite = await httpsServer(pki.valid, pki.ca.cert);
  mtlsLine = await tlsLineServer(pki.valid, pki.ca.cert);
  line = await tlsLineServer(pki.valid);
  otherLine = await tlsLineServer(otherPki.valid);
});

after(async () => {
  for (const server of [site, otherSite, expiredSite, soonSite, mtlsSite, mtlsLine, line, otherLine])
    await server?.close();
  for (const one of [pki, otherPki]) if (one) rmSync(one.dir, { recursive: true, force: true });
});

const context = { configDir: '/', secrets: new SecretResolver({}) };

test('caRoots add trusts the system roots and ca; replace trusts ca alone', async () => {
  const added = await tlsConnection(
    tlsSettingsSchema.parse({ ca: pki.ca.certFile, caRoots: 'add' }),
    'x',
    context,
  );
  const replaced = await tlsConnection(
    tlsSettingsSchema.parse({ ca: pki.ca.certFile, caRoots: 'replace' }),
    'x',
    context,
  );
  const addedCas = added.options.ca as string[];
  assert.equal(addedCas.length, rootCertificates.length + 1);
  assert.ok(
    rootCertificates.every((root) => addedCas.includes(root)),
    'every system root is still trusted',
  );
  assert.equal(addedCas.at(-1), pki.ca.cert);
  assert.equal(replaced.options.ca, pki.ca.cert, 'only the file');
  assert.equal(added.trustedBy, `the system CAs and the CAs in ${pki.ca.certFile}`);
  assert.equal(replaced.trustedBy, `the CAs in ${pki.ca.certFile}`);
  // Without ca, Node's own store: nothing handed over.
  const none = await tlsConnection(undefined, 'x', context);
  assert.equal(none.options.ca, undefined);
  assert.equal(none.trustedBy, 'the system CAs');
});

test('a server signed by the test CA passes with add and with replace, over http and tcp', async () => {
  for (const caRoots of ['add', 'replace']) {
    const http = await runCheckFromConfig({
      kind: 'http',
      tls: { ca: pki.ca.certFile, caRoots },
      http: { url: `https://localhost:${site.port}/` },
    });
    assert.equal(http.status, 'pass', `${caRoots}: ${http.error?.message}`);
    const tcp = await runCheckFromConfig({
      kind: 'tcp',
      tls: { ca: pki.ca.certFile, caRoots },
      tcp: { host: '127.0.0.1', port: line.port, tls: true, banner: '^\\* OK' },
    });
    assert.equal(tcp.status, 'pass', `${caRoots}: ${tcp.error?.message}`);
  }
  // And one signed by another CA is trusted by neither.
  for (const caRoots of ['add', 'replace']) {
    const result = await runCheckFromConfig({
      kind: 'http',
      tls: { ca: pki.ca.certFile, caRoots },
      http: { url: `https://localhost:${otherSite.port}/` },
    });
    assert.equal(result.status, 'fail');
    assert.equal(result.error?.class, 'tls', result.error?.message);
    const tcp = await runCheckFromConfig({
      kind: 'tcp',
      tls: { ca: pki.ca.certFile, caRoots },
      tcp: { host: '127.0.0.1', port: otherLine.port, tls: true },
    });
    assert.equal(tcp.error?.class, 'tls', tcp.error?.message);
    const trusted =
      caRoots === 'add'
        ? `the system CAs and the CAs in ${pki.ca.certFile}`
        : `the CAs in ${pki.ca.certFile}`;
    assert.match(
      tcp.error?.message ?? '',
      new RegExp(`not among ${trusted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  }
  // Without ca the test CA is unknown: the default is the system roots only.
  const untrusted = await runCheckFromConfig({
    kind: 'http',
    http: { url: `https://localhost:${site.port}/` },
  });
  assert.equal(untrusted.error?.class, 'tls');
});

test('a client certificate is presented to a server that requires one, over http and tcp', async () => {
  const tlsBlock = { ca: pki.ca.certFile, caRoots: 'replace', cert: client.certFile, key: client.keyFile };
  const http = await runCheckFromConfig({
    kind: 'http',
    tls: tlsBlock,
    http: { url: `https://localhost:${mtlsSite.port}/`, expect: { bodyContains: ['ok pathwatch-probe'] } },
  });
  assert.equal(http.status, 'pass', http.error?.message);
  const tcp = await runCheckFromConfig({
    kind: 'tcp',
    tls: tlsBlock,
    tcp: { host: '127.0.0.1', port: mtlsLine.port, tls: true, banner: '^\\* OK pathwatch-probe$' },
  });
  assert.equal(tcp.status, 'pass', tcp.error?.message);
  // The key may be a secret reference to the PEM text instead of a file.
  const fromSecret = await runCheckFromConfig(
    {
      kind: 'http',
      tls: { ...tlsBlock, key: '${env:CLIENT_KEY}' },
      http: { url: `https://localhost:${mtlsSite.port}/` },
    },
    { CLIENT_KEY: client.key },
  );
  assert.equal(fromSecret.status, 'pass', fromSecret.error?.message);
  assert.ok(!JSON.stringify(fromSecret).includes('PRIVATE KEY'), 'the key is never in the result');
  // Without it the server refuses the handshake.
  const without = await runCheckFromConfig({
    kind: 'http',
    tls: { ca: pki.ca.certFile, caRoots: 'replace' },
    http: { url: `https://localhost:${mtlsSite.port}/` },
  });
  assert.equal(without.status, 'fail');
});

test('a CA, certificate or key file missing at run time is a config error of every kind, and nothing is sent', async () => {
  const missing = { ca: '/nonexistent/pathwatch-ca.pem', caRoots: 'add' };
  const cases: Array<Record<string, unknown>> = [
    { kind: 'http', tls: missing, http: { url: `https://localhost:${site.port}/` } },
    { kind: 'crawl', tls: missing, crawl: { url: `https://localhost:${site.port}/` } },
    { kind: 'tcp', tls: missing, tcp: { host: '127.0.0.1', port: site.port, tls: true } },
    { kind: 'tls', tls: { host: '127.0.0.1', port: site.port, ...missing } },
    { kind: 'smtp', tls: missing, smtp: { host: '127.0.0.1', port: site.port } },
    { kind: 'ftp', tls: missing, ftp: { host: '127.0.0.1', port: site.port, secure: 'explicit' } },
  ];
  for (const check of cases) {
    const result = await runCheckFromConfig(check);
    assert.equal(result.status, 'error', `${check.kind}: ${result.error?.message}`);
    assert.equal(result.error?.class, 'config', `${check.kind}: ${result.error?.message}`);
    assert.equal(result.error?.message, 'tls.ca: cannot read /nonexistent/pathwatch-ca.pem (ENOENT)');
    assert.deepEqual(result.peers, [], `${check.kind}: no connection`);
  }
  const noKey = await runCheckFromConfig({
    kind: 'http',
    tls: { cert: client.certFile, key: '/nonexistent/client.key' },
    http: { url: `https://localhost:${site.port}/` },
  });
  assert.equal(noKey.error?.class, 'config');
  assert.equal(noKey.error?.message, 'tls.key: cannot read /nonexistent/client.key (ENOENT)');
});

test('an http check that fails on TLS keeps the certificate it was shown, its days agreeing with the message', async () => {
  const result = await runCheckFromConfig({
    kind: 'http',
    tls: { ca: pki.ca.certFile, caRoots: 'replace' },
    http: { url: `https://localhost:${expiredSite.port}/` },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'tls');
  const certificate = result.details?.certificate as { daysLeft: number; validTo: string; subject: string };
  assert.ok(certificate, 'details.certificate is kept');
  assert.equal(certificate.subject, 'CN=localhost');
  assert.equal(certificate.validTo, new Date(new X509Certificate(pki.expired.cert).validTo).toISOString());
  assert.equal(certificate.daysLeft, -365);
});

test('expiry limits come from the tls block: degraded under warnDays, failed under failDays', async () => {
  const check = (limits: Record<string, unknown>) =>
    runCheckFromConfig({
      kind: 'http',
      tls: { ca: pki.ca.certFile, caRoots: 'replace', ...limits },
      http: { url: `https://localhost:${soonSite.port}/` },
    });
  const defaults = await check({});
  assert.equal(defaults.status, 'fail', 'expires in 5 days: under the default failDays of 7');
  assert.equal(defaults.error?.class, 'assertion');
  assert.match(defaults.error?.message ?? '', /^certificate for localhost expires in 4 days .*\(failDays\)$/);
  const warned = await check({ failDays: 3 });
  assert.equal(warned.status, 'degraded', warned.error?.message);
  const relaxed = await check({ failDays: 0, warnDays: 0 });
  assert.equal(relaxed.status, 'pass', relaxed.error?.message);
  assert.equal((relaxed.details?.certificate as { daysLeft: number } | undefined)?.daysLeft, 4);
  // The same limits, judged by the same function, for a crawl and a tcp check.
  const crawl = await runCheckFromConfig({
    kind: 'crawl',
    tls: { ca: pki.ca.certFile, caRoots: 'replace', failDays: 3 },
    crawl: { url: `https://localhost:${soonSite.port}/`, maxDepth: 0 },
  });
  assert.equal(crawl.status, 'degraded', crawl.error?.message);
  const tcp = await runCheckFromConfig({
    kind: 'tcp',
    tls: { ca: pki.ca.certFile, caRoots: 'replace' },
    tcp: { host: 'localhost', port: soonSite.port, tls: true },
  });
  assert.equal(tcp.error?.class, 'assertion');
  assert.equal(tcp.error?.message, defaults.error?.message);
});

async function problems(checks: unknown[]): Promise<string[]> {
  try {
    await parseConfig({ locations: { local: {} }, checks }, '/tmp/test.yaml', { X: 'token-7Qz' });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  return [];
}

test('the tls block says what it is missing in one line each', async () => {
  const url = 'https://shop.example/';
  assert.deepEqual(
    await problems([
      { id: 'a', kind: 'http', tls: { ca: pki.ca.certFile }, http: { url } },
      { id: 'b', kind: 'http', tls: { caRoots: 'add' }, http: { url } },
      { id: 'c', kind: 'http', tls: { cert: client.certFile }, http: { url } },
      { id: 'd', kind: 'http', tls: { ca: pki.ca.certFile, caRoots: 'append' }, http: { url } },
      { id: 'e', kind: 'dns', tls: {}, dns: { server: '10.0.0.53', query: 'shop.example' } },
      { id: 'f', kind: 'ping', tls: { verify: false }, ping: { host: '10.0.0.1' } },
      { id: 'g', kind: 'tcp', tls: { verify: false }, tcp: { host: '10.0.0.1', port: 443 } },
      { id: 'h', kind: 'smtp', auth: { bearer: '${env:X}' }, smtp: { host: 'mail.example' } },
    ]),
    [
      'checks[0].tls.caRoots: required with ca: "add" (trust the system CAs and ca) or "replace" (trust only ca)',
      'checks[1].tls.caRoots: caRoots says what ca does: set ca or remove caRoots',
      "checks[2].tls.key: required with cert: the client certificate's private key",
      'checks[3].tls.caRoots: expected "add" or "replace", got "append"',
      'checks[4].tls: a dns check never speaks TLS: remove this block',
      'checks[5].tls: a ping check never speaks TLS: remove this block',
      'checks[6].tls: this check never speaks TLS (tcp.tls is not true): set tcp.tls: true, or remove this block',
      'checks[7].auth.bearer: smtp checks log in with username and password, not a bearer token',
    ],
  );
});
