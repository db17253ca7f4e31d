import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { runCheck } from '../../src/checks/run-check.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import type { RunResult } from '../../src/results/run-result.ts';
import { createTestPki, type TestPki } from '../helpers/test-certificates.ts';

// The kinds that speak TLS through a line dialogue (tls, tcp with `tls: true`, smtp) compile
// their `tls` block once per loaded config, as http does: the CA file is read, and the trust
// store built, at the first run, not at every run (a `ca` handed to every connection makes
// Node parse the ~140 system roots again each time).

let pki: TestPki;
let server: tls.Server;
let port: number;
let workDir: string;

before(async () => {
  pki = createTestPki();
  workDir = mkdtempSync(join(tmpdir(), 'pathwatch-tls-once-'));
  server = tls.createServer({ key: pki.valid.key, cert: pki.valid.cert }, (socket) => {
    socket.on('error', () => {});
    socket.end('* OK IMAP ready\r\n');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

after(() => {
  server.close();
  rmSync(workDir, { recursive: true, force: true });
  rmSync(pki.dir, { recursive: true, force: true });
});

async function loadOnce(check: Record<string, unknown>): Promise<() => Promise<RunResult>> {
  const config = await parseConfig(
    { locations: { local: {} }, checks: [{ id: 'compiled-once', ...check }] },
    join(workDir, 'pathwatch.config.yaml'),
    {},
  );
  return () =>
    runCheck(config.checks[0], { location: 'local', secrets: config.secrets, configDir: config.dir });
}

for (const [kind, block] of [
  ['tls', (ca: string) => ({ tls: { host: '127.0.0.1', port, caRoots: 'add', ca } })],
  [
    'tcp',
    (ca: string) => ({
      tls: { caRoots: 'add', ca },
      tcp: { host: '127.0.0.1', port, banner: '^\\* OK', tls: true },
    }),
  ],
] as const) {
  test(`${kind}: the CA file is read once per loaded config, deleted after the first run the second still passes`, async () => {
    const caFile = join(workDir, `${kind}-ca.pem`);
    copyFileSync(pki.ca.certFile, caFile);
    const run = await loadOnce({ kind, ...block(`${kind}-ca.pem`) });
    const first = await run();
    assert.equal(first.status, 'pass', first.error?.message);
    rmSync(caFile);
    const second = await run();
    assert.equal(second.status, 'pass', second.error?.message);
  });
}

test('tls: the handshake still lets an old protocol through, to name it after (the compiled context keeps the overrides)', async () => {
  const old = tls.createServer(
    { key: pki.valid.key, cert: pki.valid.cert, maxVersion: 'TLSv1.2' },
    (socket) => socket.end(),
  );
  old.listen(0, '127.0.0.1');
  await once(old, 'listening');
  try {
    const caFile = join(workDir, 'old-ca.pem');
    copyFileSync(pki.ca.certFile, caFile);
    const run = await loadOnce({
      kind: 'tls',
      tls: {
        host: '127.0.0.1',
        port: (old.address() as AddressInfo).port,
        caRoots: 'replace',
        ca: 'old-ca.pem',
        minVersion: 'TLSv1.3',
      },
    });
    const result = await run();
    // Refused in the handshake it would be a tls error with no protocol seen; judged after it,
    // the result names the protocol the server spoke.
    assert.equal(result.details?.protocol, 'TLSv1.2', JSON.stringify(result.details));
    assert.equal(result.status, 'fail');
    assert.equal(result.error?.code, 'TLS_POLICY', result.error?.message);
  } finally {
    old.close();
  }
});
