import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { RunResult } from '../../src/results/run-result.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { createTestPki, type TestPki } from '../helpers/test-certificates.ts';
import {
  type ScriptedFtpServer,
  startFtpServer,
  startScriptedFtpServer,
  type TestFtpServer,
} from '../helpers/test-ftp-server.ts';
import { closedPort, startSilentServer, type TestServer } from '../helpers/test-servers.ts';

const PASSWORD = 'c0rrect-h0rse-ftp';
const env = { FTP_PASSWORD: PASSWORD, WRONG_PASSWORD: 'not-the-password' };
const STATUS = 'service: pathwatch demo\nstatus: ok\n';
/** Larger than the 1 MiB kept for `contains`, so hashing has to stream. */
const BLOB = randomBytes(1536 * 1024);
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

let pki: TestPki;
let ftp: TestFtpServer;
let ftps: TestFtpServer;
let ftpsExpired: TestFtpServer;
let ftpsImplicit: TestFtpServer;
let silent: TestServer;
let quiet: ScriptedFtpServer;
let noData: ScriptedFtpServer;
let refusedDataPort: number;

/** Answers a login and session setup like a real server; `passive` answers EPSV/PASV. */
function scriptedReplies(passive: (command: string) => string | undefined) {
  return (command: string): string | undefined => {
    const verb = command.split(' ')[0].toUpperCase();
    if (verb === 'USER') return '331 Password required';
    if (verb === 'PASS') return '230 Logged in';
    if (verb === 'FEAT') return '211 No features';
    if (verb === 'TYPE' || verb === 'STRU' || verb === 'OPTS') return '200 OK';
    if (verb === 'EPSV' || verb === 'PASV') return passive(verb);
    if (verb === 'QUIT') return '221 Bye';
    return '502 Not implemented';
  };
}

before(async () => {
  pki = createTestPki();
  const files = { 'pub/status.txt': STATUS, 'pub/blob.bin': BLOB, 'pub/readme.txt': 'read me\n' };
  const users = { demo: PASSWORD };
  ftp = await startFtpServer({ files, users });
  ftps = await startFtpServer({ files, users, tls: { key: pki.valid.key, cert: pki.valid.cert } });
  ftpsExpired = await startFtpServer({ files, users, tls: { key: pki.expired.key, cert: pki.expired.cert } });
  ftpsImplicit = await startFtpServer({
    files,
    users,
    tls: { key: pki.valid.key, cert: pki.valid.cert },
    implicitTls: true,
  });
  silent = await startSilentServer();
  // Greets, then never answers a command.
  quiet = await startScriptedFtpServer('220 quiet FTP', () => undefined);
  // Logs in fine, but hands out a passive port nothing listens on.
  refusedDataPort = await closedPort();
  noData = await startScriptedFtpServer(
    '220 scripted FTP',
    scriptedReplies((verb) =>
      verb === 'EPSV'
        ? `229 Entering Extended Passive Mode (|||${refusedDataPort}|)`
        : `227 Entering Passive Mode (127,0,0,1,${refusedDataPort >> 8},${refusedDataPort & 255})`,
    ),
  );
});

after(async () => {
  await Promise.all([
    ftp.close(),
    ftps.close(),
    ftpsExpired.close(),
    ftpsImplicit.close(),
    silent.close(),
    quiet.close(),
    noData.close(),
  ]);
});

/** An ftp check of `server` logged in as demo; `ftp` adds to its ftp block, `extra` to the check. */
function ftpCheck(
  server: { port: number },
  ftp: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    kind: 'ftp',
    auth: { username: 'demo', password: '${env:FTP_PASSWORD}' },
    ...extra,
    ftp: { host: '127.0.0.1', port: server.port, ...ftp },
  };
}

function dataPeers(result: { peers: Array<{ ip: string; port: number }> }, server: TestFtpServer) {
  return result.peers.filter(
    (peer) =>
      peer.ip === '127.0.0.1' && peer.port >= server.pasvRange.min && peer.port <= server.pasvRange.max,
  );
}

/** A detail the run must have recorded. */
function detail<T>(result: RunResult, key: string): T {
  const value = result.details?.[key];
  assert.ok(value !== undefined, `details.${key} is recorded`);
  return value as T;
}

test('login, LIST and RETR pass; size, checksum and content are checked; every data connection is a peer', async () => {
  const result = await runCheckFromConfig(
    ftpCheck(ftp, {
      list: { path: '/pub', expect: ['status.txt', 'blob.bin'] },
      retrieve: { path: '/pub/blob.bin', size: BLOB.length, sha256: sha256(BLOB).toUpperCase() },
    }),
    env,
  );
  assert.equal(result.status, 'pass', result.error?.message);
  for (const phase of ['connect', 'banner', 'login', 'list', 'retrieve'])
    assert.equal(typeof result.phases[phase], 'number', `phase ${phase} is measured`);
  assert.equal(result.phases.dns, undefined);
  assert.equal(result.phases.tls, undefined);
  assert.deepEqual(
    result.peers[0],
    { ip: '127.0.0.1', port: ftp.port },
    'the control connection comes first',
  );
  assert.equal(
    dataPeers(result, ftp).length,
    2,
    `one passive data connection each for LIST and RETR: ${JSON.stringify(result.peers)}`,
  );
  assert.match(String(result.details?.banner), /^220.pathwatch test FTP/);
  const listing = detail<{ path: string; entries: number; names: string[] }>(result, 'listing');
  assert.equal(listing.path, '/pub');
  assert.equal(listing.entries, 3);
  assert.deepEqual([...listing.names].sort(), ['blob.bin', 'readme.txt', 'status.txt']);
  assert.deepEqual(result.details?.download, {
    path: '/pub/blob.bin',
    bytes: BLOB.length,
    sha256: sha256(BLOB),
  });
  assert.ok(result.assertions?.every((assertion) => assertion.ok));
  assert.ok(!JSON.stringify(result).includes(PASSWORD), 'the password never appears in the result');
});

test('content is found in a small file, and a host name is looked up', async () => {
  const result = await runCheckFromConfig(
    ftpCheck(ftp, { host: 'localhost', retrieve: { path: '/pub/status.txt', contains: 'status: ok' } }),
    env,
  );
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.dns, 'number');
});

test('a wrong password fails with class auth, AUTH_REJECTED, naming the user', async () => {
  const result = await runCheckFromConfig(
    ftpCheck(ftp, { list: '/pub' }, { auth: { username: 'demo', password: '${env:WRONG_PASSWORD}' } }),
    env,
  );
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'auth');
  assert.equal(result.error?.code, 'AUTH_REJECTED');
  assert.equal(result.error?.phase, 'login');
  assert.equal(result.error?.message, 'FTP login as demo rejected: 530 Login incorrect');
  assert.equal(result.phases.list, undefined, 'nothing runs after a refused login');
  assert.ok(!JSON.stringify(result).includes('not-the-password'));
});

test('a missing file fails with the RETR refusal', async () => {
  const result = await runCheckFromConfig(ftpCheck(ftp, { retrieve: { path: '/pub/missing.txt' } }), env);
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'REPLY_REJECTED');
  assert.equal(result.error?.phase, 'retrieve');
  assert.match(result.error?.message ?? '', /^RETR \/pub\/missing\.txt failed: 55\d .*no such file/i);
});

test('a checksum mismatch fails with expected and actual digests', async () => {
  const wrong = 'ab'.repeat(32);
  const result = await runCheckFromConfig(
    ftpCheck(ftp, { retrieve: { path: '/pub/status.txt', sha256: wrong } }),
    env,
  );
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'ASSERTION');
  assert.equal(
    result.error?.message,
    `RETR /pub/status.txt: sha256 expected ${wrong.slice(0, 12)}…, got ${sha256(STATUS).slice(0, 12)}…`,
  );
  assert.deepEqual(result.assertions?.at(-1), {
    name: 'sha256 of /pub/status.txt',
    ok: false,
    expected: wrong,
    actual: sha256(STATUS),
  });
});

test('a wrong size and missing content are reported with expected and actual', async () => {
  const result = await runCheckFromConfig(
    ftpCheck(ftp, { retrieve: { path: '/pub/status.txt', size: 10, contains: 'status: down' } }),
    env,
  );
  assert.equal(result.status, 'fail');
  assert.equal(
    result.error?.message,
    `RETR /pub/status.txt: size expected 10 bytes, got ${Buffer.byteLength(STATUS)} bytes`,
  );
  assert.deepEqual(
    result.assertions?.map((assertion) => assertion.ok),
    [true, false, false],
  );
});

test('a name missing from the listing fails naming what was there', async () => {
  const result = await runCheckFromConfig(
    ftpCheck(ftp, { list: { path: '/pub', expect: ['orders.csv'] } }),
    env,
  );
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'ASSERTION');
  assert.match(result.error?.message ?? '', /^LIST \/pub: expected orders\.csv, got 3 entries: /);
});

test('explicit FTPS (AUTH TLS) passes with protected data connections', async () => {
  const result = await runCheckFromConfig(
    ftpCheck(
      ftps,
      { secure: 'explicit', list: '/pub', retrieve: { path: '/pub/status.txt', sha256: sha256(STATUS) } },
      { tls: { caRoots: 'add', ca: pki.ca.certFile } },
    ),
    env,
  );
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.tls, 'number');
  const session = result.details?.tlsSession as { via: string; protocol: string; validTo: string };
  assert.equal(session.via, 'explicit');
  assert.match(session.protocol, /^TLSv1\.[23]$/);
  assert.ok(Date.parse(session.validTo) > Date.now());
  assert.equal(dataPeers(result, ftps).length, 2);
});

test('implicit FTPS is TLS from the first byte', async () => {
  const result = await runCheckFromConfig(
    ftpCheck(
      ftpsImplicit,
      { secure: 'implicit', list: '/pub' },
      { tls: { caRoots: 'add', ca: pki.ca.certFile } },
    ),
    env,
  );
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(detail<{ via: string }>(result, 'tlsSession').via, 'implicit');
  assert.equal(typeof result.phases.tls, 'number');
});

test('an expired FTPS certificate fails with class tls naming the cause', async () => {
  const result = await runCheckFromConfig(
    ftpCheck(ftpsExpired, { secure: 'explicit' }, { tls: { caRoots: 'add', ca: pki.ca.certFile } }),
    env,
  );
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'tls');
  assert.equal(result.error?.code, 'TLS_EXPIRED');
  assert.equal(result.error?.phase, 'tls');
  assert.equal(
    result.error?.message,
    `TLS with 127.0.0.1:${ftpsExpired.port} failed: certificate has expired`,
  );
});

test('AUTH TLS refused by a plain server fails with class tls', async () => {
  const result = await runCheckFromConfig(ftpCheck(ftp, { secure: 'explicit' }), env);
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'tls');
  assert.equal(result.error?.code, 'STARTTLS_REFUSED');
  assert.match(
    result.error?.message ?? '',
    new RegExp(`^AUTH TLS rejected by 127\\.0\\.0\\.1:${ftp.port}: \\d{3} `),
  );
});

test('a server that accepts and never answers times out waiting for the banner', async () => {
  const result = await runCheckFromConfig(ftpCheck(silent, {}, { timeout: '300ms' }), env);
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'TIMEOUT');
  assert.equal(result.error?.phase, 'banner');
  assert.equal(
    result.error?.message,
    `127.0.0.1:${silent.port} accepted the connection but sent no FTP banner within 300 ms`,
  );
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: silent.port }]);
  assert.ok(result.phases.total >= 290 && result.phases.total < 2000, `total ${result.phases.total}`);
});

test('a server that greets and then never answers times out naming the login, and the socket is closed', async () => {
  const result = await runCheckFromConfig(ftpCheck(quiet, {}, { timeout: '300ms' }), env);
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'TIMEOUT');
  assert.equal(result.error?.phase, 'login');
  assert.equal(result.error?.message, `FTP login as demo on 127.0.0.1:${quiet.port} timed out after 300 ms`);
  assert.equal(result.details?.banner, '220 quiet FTP');
  assert.deepEqual(quiet.commands, ['USER demo']);
  await quiet.drained();
});

test('a passive data port that refuses is named, and listed as a peer', async () => {
  const result = await runCheckFromConfig(ftpCheck(noData, { list: '/pub' }), env);
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  assert.equal(result.error?.phase, 'list');
  assert.equal(
    result.error?.message,
    `connect to 127.0.0.1:${refusedDataPort} refused (passive data connection for LIST /pub)`,
  );
  assert.deepEqual(result.peers, [
    { ip: '127.0.0.1', port: noData.port },
    { ip: '127.0.0.1', port: refusedDataPort },
  ]);
  assert.ok(noData.commands.includes('PASS ***'));
  await noData.drained();
});

test('a closed port fails with class refused', async () => {
  const port = await closedPort();
  const result = await runCheckFromConfig(ftpCheck({ port }), env);
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  assert.equal(result.error?.message, `connect to 127.0.0.1:${port} refused`);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port }]);
});

test('config mistakes are reported with their path', async () => {
  await assert.rejects(
    runCheckFromConfig(ftpCheck(ftp, { secure: true, retrieve: { path: '/x', sha256: 'abc' } }), env),
    (error: Error) => {
      assert.match(
        error.message,
        /checks\[0\]\.ftp\.secure: expected false, "explicit" or "implicit", got true/,
      );
      assert.match(
        error.message,
        /checks\[0\]\.ftp\.retrieve\.sha256: expected a SHA-256 as 64 hex digits, got "abc"/,
      );
      return true;
    },
  );
});
