import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { RunResult } from '../../src/results/run-result.ts';
import { CLI, REPO_ROOT } from '../helpers/run-cli.ts';
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
const execFileAsync = promisify(execFile);

let workDir: string;
let hostsFile: string;
/** Why the test cannot run here, when it cannot. */
let unavailable: string | undefined;
let site: TestServer;
let pki: TestPki;
let secure: http2.Http2SecureServer;
let securePort: number;

function inMountNamespace(command: string[]): string[] {
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    'mount --bind "$0" /etc/hosts && exec "$@"',
    hostsFile,
    ...command,
  ];
}

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'pathwatch-http-dial-'));
  hostsFile = join(workDir, 'hosts');
  writeFileSync(hostsFile, `127.0.0.1 localhost\n::1 ${NAME}\n127.0.0.1 ${NAME}\n`);
  try {
    const [command, ...args] = inMountNamespace(['getent', 'ahosts', NAME]);
    const addresses = execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n')
      .filter((line) => line.includes('STREAM'))
      .map((line) => line.split(/\s+/)[0]);
    if (addresses.join(' ') !== '::1 127.0.0.1')
      unavailable = `${NAME} resolves to ${addresses.join(' ') || 'nothing'} in the mount namespace, not ::1 then 127.0.0.1`;
  } catch (error) {
    unavailable = `a private mount namespace with its own /etc/hosts is not available here (unshare --mount: ${(error as { stderr?: string }).stderr?.trim() || (error as Error).message})`;
  }
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
  const configFile = join(workDir, `${String(check.id)}.config.json`);
  writeFileSync(configFile, JSON.stringify({ locations: { local: {} }, checks: [check] }));
  const [command, ...args] = inMountNamespace([
    process.execPath,
    CLI,
    'run',
    String(check.id),
    '--json',
    '--config',
    configFile,
  ]);
  let stdout: string;
  let stderr = '';
  try {
    ({ stdout, stderr } = await execFileAsync(command, args, {
      cwd: REPO_ROOT,
      env: { ...process.env, PATHWATCH_LOG_LEVEL: 'silent' },
      timeout: 30_000,
      encoding: 'utf8',
    }));
  } catch (error) {
    // A failed check exits 1: its result is on stdout all the same.
    const failed = error as { stdout?: string; stderr?: string };
    stdout = failed.stdout ?? '';
    stderr = failed.stderr ?? String(error);
  }
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
  if (unavailable) return t.skip(unavailable);
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
  if (unavailable) return t.skip(unavailable);
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
  if (unavailable) return t.skip(unavailable);
  const result = await runInNamespace({
    id: 'crawl-dual',
    kind: 'crawl',
    timeout: '5s',
    crawl: { url: `http://${NAME}:${site.port}/` },
  });
  assertBothAddressesTried(result, site.port);
});
