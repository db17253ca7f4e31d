import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type DualStackName, dualStackName } from '../helpers/dual-stack-name.ts';
import { REPO_ROOT } from '../helpers/run-cli.ts';
import { startFtpServer, type TestFtpServer } from '../helpers/test-ftp-server.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/test-smtp-server.ts';

/**
 * A dual-stack host whose IPv6 address is dead: `dual.test` resolves to ::1 first (nothing
 * listens there, so the connect is refused) and to 127.0.0.1 second, where the real server
 * runs. Every kind must try the second address, as the tcp kind always did.
 *
 * The name comes from a hosts file bind-mounted over /etc/hosts in a private mount namespace
 * (`unshare --mount`, what `ip netns exec` does with /etc/netns/<ns>/hosts) in which
 * `pathwatch run` is started: the network stays the host's, so the servers this test starts
 * on 127.0.0.1 are reachable, and the machine's own /etc/hosts is never touched.
 */

const NAME = 'dual.test';
let workDir: string;
let dual: DualStackName;
let banner: Server;
let smtp: TestSmtpServer;
let ftp: TestFtpServer;

before(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'pathwatch-dial-'));
  dual = dualStackName(workDir, NAME);
  banner = createServer((socket) => socket.end('hello from the live address\r\n'));
  banner.listen(0, '127.0.0.1');
  await new Promise((resolve) => banner.once('listening', resolve));
  smtp = await startSmtpServer();
  ftp = await startFtpServer({ files: { 'pub/ready.txt': 'ready' }, users: { demo: 'secret-pw' } });
});

after(async () => {
  await new Promise((resolve) => banner.close(resolve));
  await smtp.close();
  await ftp.close();
  rmSync(workDir, { recursive: true, force: true });
});

async function assertSecondAddressUsed(
  t: { skip(message: string): void },
  check: Record<string, unknown>,
  port: () => number,
): Promise<void> {
  if (dual.unavailable) {
    t.skip(dual.unavailable);
    return;
  }
  const run = await dual.run(check, { FTP_PASSWORD: 'secret-pw' });
  assert.ok(
    run.stdout.trim().startsWith('{'),
    `pathwatch run printed no result:\n${run.stdout}\n${run.stderr}`,
  );
  const result = JSON.parse(run.stdout);
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(run.code, 0);
  // Both addresses were tried, the dead one first: a capture is cut to both flows.
  assert.deepEqual(result.peers.slice(0, 2), [
    { ip: '::1', port: port() },
    { ip: '127.0.0.1', port: port() },
  ]);
  assert.equal(typeof result.phases.dns, 'number', 'the lookup is timed');
  assert.equal(typeof result.phases.connect, 'number', 'the connects are timed');
}

test('tcp: a name whose first address refuses connects to the second', async (t) => {
  await assertSecondAddressUsed(
    t,
    {
      id: 'tcp-dual',
      kind: 'tcp',
      timeout: '5s',
      tcp: { host: NAME, port: portOf(banner), banner: '^hello' },
    },
    () => portOf(banner),
  );
});

test('smtp: a name whose first address refuses connects to the second', async (t) => {
  await assertSecondAddressUsed(
    t,
    { id: 'smtp-dual', kind: 'smtp', timeout: '5s', smtp: { host: NAME, port: smtp.port, tls: 'none' } },
    () => smtp.port,
  );
});

test('ftp: a name whose first address refuses connects to the second (control connection)', async (t) => {
  await assertSecondAddressUsed(
    t,
    {
      id: 'ftp-dual',
      kind: 'ftp',
      timeout: '5s',
      ftp: { host: NAME, port: ftp.port, list: { path: '/pub', expect: ['ready.txt'] } },
      auth: { username: 'demo', password: '${env:FTP_PASSWORD}' },
    },
    () => ftp.port,
  );
});

function portOf(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the banner server has no port');
  return address.port;
}

/**
 * Opens a SocketDialogue to `slow.test` inside a fresh network and mount namespace where
 * `slow.test` is ::1 then 127.0.0.1 and ip6tables drops every SYN to ::1: a broken IPv6
 * route that never answers. Prints what happened as one JSON line.
 */
const SILENT_FIRST_SCRIPT = `
const [dialogueModule, clockModule, portText] = process.argv.slice(1);
const { SocketDialogue } = await import(dialogueModule);
const { PhaseClock } = await import(clockModule);
const net = await import('node:net');
const port = Number(portText);
const server = net.createServer((socket) => socket.end('hello\\r\\n'));
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const peers = [];
const started = Date.now();
try {
  const dialogue = await SocketDialogue.open({
    host: 'slow.test', port, signal: AbortSignal.timeout(2000), timeoutMs: 2000, clock: new PhaseClock(), peers,
  });
  const line = await dialogue.readLine('the banner');
  dialogue.close();
  console.log(JSON.stringify({ ms: Date.now() - started, target: dialogue.target, line, peers }));
} catch (error) {
  console.log(JSON.stringify({ ms: Date.now() - started, error: error.runError ?? String(error), peers }));
}
server.close();
`;

test('a first address that never answers gets its share of the timeout, then the second is used', async (t) => {
  const port = 40_000 + Math.floor(Math.random() * 10_000);
  const slowHosts = join(workDir, 'slow-hosts');
  writeFileSync(slowHosts, '127.0.0.1 localhost\n::1 slow.test\n127.0.0.1 slow.test\n');
  const setup = [
    'ip link set lo up',
    `ip6tables -A INPUT -p tcp --dport ${port} -j DROP`,
    `mount --bind "$0" /etc/hosts`,
    'exec "$@"',
  ].join(' && ');
  const args = [
    '--net',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    setup,
    slowHosts,
    process.execPath,
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    SILENT_FIRST_SCRIPT,
    join(REPO_ROOT, 'src/checks/socket-dialogue.ts'),
    join(REPO_ROOT, 'src/checks/phase-clock.ts'),
    String(port),
  ];
  let output: string;
  try {
    output = execFileSync('unshare', args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim() ?? '';
    if (
      /unshare|ip6tables|Operation not permitted|mount/i.test(stderr) &&
      !stderr.includes('SocketDialogue')
    ) {
      t.skip(`a private network and mount namespace with ip6tables is not available here: ${stderr}`);
      return;
    }
    throw error;
  }
  const result = JSON.parse(output.trim().split('\n').at(-1) ?? '{}');
  assert.equal(result.error, undefined, JSON.stringify(result.error));
  assert.equal(result.target, `127.0.0.1:${port}`);
  assert.equal(result.line, 'hello');
  // Half of the 2 s for ::1 (two addresses), then the live one answers at once.
  assert.ok(result.ms >= 900 && result.ms < 1900, `took ${result.ms} ms`);
  assert.deepEqual(result.peers, [
    { ip: '::1', port },
    { ip: '127.0.0.1', port },
  ]);
});
