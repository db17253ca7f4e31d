import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { createTestPki, type TestPki } from '../helpers/test-certificates.ts';
import { closedPort, startSilentServer, type TestServer } from '../helpers/test-servers.ts';

const SECRET = 's3cret-token-42';

interface Listening {
  port: number;
  /** Resolves once every connection the server accepted has closed. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface LineServer extends Listening {
  /** Every line the server received, in order, as sent (line ending included). */
  received: string[];
  close(): Promise<void>;
}

/** Tracks connections so `close()` ends them too: a test server must not outlive its test file. */
async function listen(server: Server, host = '127.0.0.1'): Promise<Listening> {
  const sockets = new Set<Socket>();
  let waiters: Array<() => void> = [];
  server.on(server instanceof tls.Server ? 'secureConnection' : 'connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size > 0) return;
      for (const wake of waiters) wake();
      waiters = [];
    });
    socket.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  server.listen(0, host);
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    idle: () =>
      sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A small line protocol in the style of SMTP/POP3: greets with `greeting`, answers PING,
 * AUTH <token>, QUIT; RESET sends a TCP RST; ignores HANG (to leave a step waiting); echoes a wrong token back.
 */
function lineProtocol(greeting: string | undefined, received: string[]) {
  return (socket: Socket) => {
    if (greeting !== undefined) socket.write(`${greeting}\r\n`);
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        const raw = pending.slice(0, newline + 1);
        pending = pending.slice(newline + 1);
        received.push(raw);
        const line = raw.replace(/\r?\n$/, '');
        if (line === 'PING') socket.write('+PONG\r\n');
        else if (line === `AUTH ${SECRET}`) socket.write('+OK welcome\r\n');
        else if (line.startsWith('AUTH ')) socket.write(`-ERR bad token ${line.slice(5)}\r\n`);
        else if (line === 'QUIT') socket.end('+BYE\r\n');
        else if (line === 'RESET') socket.resetAndDestroy();
        else if (line !== 'HANG') socket.write('-ERR unknown command\r\n');
      }
    });
  };
}

async function startLineServer(greeting: string | undefined, host = '127.0.0.1'): Promise<LineServer> {
  const received: string[] = [];
  const server = createServer(lineProtocol(greeting, received));
  return { ...(await listen(server, host)), received };
}

/**
 * A listener whose accept queue is full: its process never calls accept(), two connections
 * fill the queue (backlog 1), and the kernel drops any further SYN, so a connect hangs the
 * way it does behind a firewall that drops packets. Loopback only.
 */
async function startBacklogFullServer(): Promise<{ port: number; close(): Promise<void> }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const server = require('node:net').createServer();
       server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         process.stdout.write(server.address().port + '\\n', () => {
           Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // never accept
         });
       });`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(String(chunk).trim());
  const fillers: Socket[] = [];
  for (let index = 0; index < 2; index++) {
    const filler = connect(port, '127.0.0.1');
    filler.on('error', () => {});
    fillers.push(filler);
    await once(filler, 'connect');
  }
  return {
    port,
    close: async () => {
      for (const filler of fillers) filler.destroy();
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

let pki: TestPki;
let ssh: LineServer;
let mail: LineServer;
let quiet: LineServer;
let longBanner: LineServer;
let silent: TestServer;
let ipv6: LineServer;
let closing: Listening;
let imaps: LineServer;
let imapsExpired: Listening;

before(async () => {
  pki = createTestPki();
  ssh = await startLineServer('SSH-2.0-OpenSSH_9.6');
  mail = await startLineServer('220 mail ready');
  quiet = await startLineServer(undefined);
  longBanner = await startLineServer(`220 ${'x'.repeat(300)}`);
  ipv6 = await startLineServer('220 v6 ready', '::1');
  silent = await startSilentServer();
  closing = await listen(createServer((socket) => socket.end()));
  const imapsReceived: string[] = [];
  imaps = {
    ...(await listen(
      tls.createServer(
        { key: pki.valid.key, cert: pki.valid.cert },
        lineProtocol('* OK IMAP ready', imapsReceived),
      ),
    )),
    received: imapsReceived,
  };
  imapsExpired = await listen(
    tls.createServer({ key: pki.expired.key, cert: pki.expired.cert }, lineProtocol('* OK IMAP ready', [])),
  );
});

after(async () => {
  for (const server of [ssh, mail, quiet, longBanner, ipv6, silent, closing, imaps, imapsExpired]) {
    await server?.close();
  }
});

test('a port that accepts passes with connect timing and its peer', async () => {
  const result = await runCheckFromConfig({ kind: 'tcp', tcp: { host: '127.0.0.1', port: quiet.port } });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.phases.dns, undefined, 'an IP literal needs no dns lookup');
  assert.equal(typeof result.phases.connect, 'number');
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: quiet.port }]);
  assert.equal(result.details?.address, `127.0.0.1:${quiet.port}`);
});

test('a host name is looked up and the dns phase is measured', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    tcp: { host: 'localhost', port: ssh.port, ipVersion: 4 },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.dns, 'number');
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: ssh.port }]);
});

test('an IPv6 literal is dialled directly, with or without brackets', async () => {
  for (const host of ['::1', '[::1]']) {
    const result = await runCheckFromConfig({
      kind: 'tcp',
      tcp: { host, port: ipv6.port, banner: '^220 v6' },
    });
    assert.equal(result.status, 'pass', result.error?.message);
    assert.deepEqual(result.peers, [{ ip: '::1', port: ipv6.port }]);
    assert.equal(result.details?.address, `[::1]:${ipv6.port}`);
  }
});

test('the probe closes its connection whether the run passes or times out', async () => {
  const passed = await runCheckFromConfig({
    kind: 'tcp',
    tcp: { host: '127.0.0.1', port: quiet.port, steps: [{ send: 'PING', expect: 'PONG' }] },
  });
  assert.equal(passed.status, 'pass', passed.error?.message);
  await quiet.idle();
  const timedOut = await runCheckFromConfig({
    kind: 'tcp',
    timeout: '200ms',
    tcp: { host: '127.0.0.1', port: quiet.port, steps: [{ send: 'HANG', expect: '.' }] },
  });
  assert.equal(timedOut.error?.class, 'timeout');
  assert.equal(timedOut.error?.code, 'TIMEOUT');
  await quiet.idle();
});

test('a matching banner passes and is kept in the details', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    tcp: { host: '127.0.0.1', port: ssh.port, banner: '^SSH-2\\.0' },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.banner, 'number');
  assert.equal(result.details?.banner, 'SSH-2.0-OpenSSH_9.6');
  assert.deepEqual(
    result.assertions?.map((assertion) => [assertion.name, assertion.ok]),
    [['banner matches /^SSH-2\\.0/', true]],
  );
});

test('a different banner fails with expected and actual', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    tcp: { host: '127.0.0.1', port: mail.port, banner: '^SSH-2.0' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'ASSERTION');
  assert.equal(result.error?.phase, 'banner');
  assert.equal(result.error?.message, 'banner: expected /^SSH-2.0/, got "220 mail ready"');
});

test('a long banner is cut short in the message', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    tcp: { host: '127.0.0.1', port: longBanner.port, banner: '/^ssh/i' },
  });
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'ASSERTION');
  const message = result.error?.message ?? '';
  assert.match(message, /^banner: expected \/\^ssh\/i, got "220 x+\.\.\."$/);
  assert.ok(message.length < 160, `one short line, got ${message.length} characters`);
});

test('a send/expect dialogue passes; the secret it sends never reaches the result', async () => {
  const result = await runCheckFromConfig(
    {
      kind: 'tcp',
      tcp: {
        host: '127.0.0.1',
        port: mail.port,
        steps: [
          { expect: '^220 ' },
          { send: 'AUTH ${env:MAIL_TOKEN}', expect: '^\\+OK' },
          { send: 'PING', expect: '/^\\+pong$/i' },
          { send: 'QUIT', expect: '^\\+BYE' },
        ],
      },
    },
    { MAIL_TOKEN: SECRET },
  );
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.dialogue, 'number');
  assert.deepEqual(
    mail.received.slice(-3),
    [`AUTH ${SECRET}\r\n`, 'PING\r\n', 'QUIT\r\n'],
    'lines end in CRLF',
  );
  const steps = result.details?.steps as Array<Record<string, unknown>>;
  assert.deepEqual(steps[1], {
    step: 2,
    send: 'AUTH ${env:MAIL_TOKEN}',
    expect: '/^\\+OK/',
    received: '+OK welcome',
  });
  assert.ok(!JSON.stringify(result).includes(SECRET));
});

test('a dialogue line that does not match fails naming the step, expected and actual', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    tcp: {
      host: '127.0.0.1',
      port: mail.port,
      banner: '^220',
      steps: [{ send: 'PING', expect: '^\\+PANG' }],
    },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'ASSERTION');
  assert.equal(result.error?.phase, 'dialogue');
  assert.equal(result.error?.message, 'step 1: expected /^\\+PANG/, got "+PONG"');
});

test('a secret the server echoes back in a mismatch is masked everywhere', async () => {
  const result = await runCheckFromConfig(
    {
      kind: 'tcp',
      tcp: {
        host: '127.0.0.1',
        port: mail.port,
        banner: '^220',
        steps: [{ send: 'AUTH ${env:MAIL_TOKEN}x', expect: '^\\+OK' }],
      },
    },
    { MAIL_TOKEN: SECRET },
  );
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'ASSERTION');
  assert.equal(result.error?.message, 'step 1: expected /^\\+OK/, got "-ERR bad token ***x"');
  assert.ok(!JSON.stringify(result).includes(SECRET));
});

test('a server that accepts and never sends its banner times out in the banner phase', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    timeout: '300ms',
    tcp: { host: '127.0.0.1', port: silent.port, banner: '^SSH-2.0' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'TIMEOUT');
  assert.equal(result.error?.phase, 'banner');
  assert.equal(
    result.error?.message,
    `waiting for the banner from 127.0.0.1:${silent.port} timed out after 300 ms; the server accepted the connection and sent nothing`,
  );
  assert.ok(result.phases.total >= 290 && result.phases.total < 2000, `total ${result.phases.total}`);
});

test('a step whose reply never comes times out in the dialogue phase', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    timeout: '300ms',
    tcp: {
      host: '127.0.0.1',
      port: mail.port,
      banner: '^220',
      steps: [
        { send: 'PING', expect: 'PONG' },
        { send: 'HANG', expect: '.' },
      ],
    },
  });
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'TIMEOUT');
  assert.equal(result.error?.phase, 'dialogue');
  assert.equal(
    result.error?.message,
    `waiting for the reply to step 2 from 127.0.0.1:${mail.port} timed out after 300 ms`,
  );
});

test('a refused port fails with class refused', async () => {
  const port = await closedPort();
  const result = await runCheckFromConfig({ kind: 'tcp', tcp: { host: '127.0.0.1', port } });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  assert.equal(result.error?.phase, 'connect');
  assert.equal(result.error?.message, `connect to 127.0.0.1:${port} refused`);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port }]);
});

test('a connect that is never answered times out in the connect phase', async () => {
  const dropping = await startBacklogFullServer();
  try {
    const result = await runCheckFromConfig({
      kind: 'tcp',
      timeout: '300ms',
      tcp: { host: '127.0.0.1', port: dropping.port },
    });
    assert.equal(result.status, 'fail');
    assert.equal(result.error?.class, 'connect_timeout');
    assert.equal(result.error?.code, 'CONNECT_TIMEOUT');
    assert.equal(result.error?.phase, 'connect');
    assert.equal(result.error?.message, `connect to 127.0.0.1:${dropping.port} timed out after 300 ms`);
    assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: dropping.port }]);
  } finally {
    await dropping.close();
  }
});

test('a server that closes before its banner fails with a clear reason', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    tcp: { host: '127.0.0.1', port: closing.port, banner: '^220' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'reset');
  assert.equal(result.error?.code, 'CONNECTION_CLOSED');
  assert.equal(result.error?.phase, 'banner');
  assert.equal(
    result.error?.message,
    `server 127.0.0.1:${closing.port} closed the connection before sending the banner`,
  );
});

test('a server that resets the connection mid-dialogue fails with class reset', async () => {
  // The RST follows a line the probe sent, so it lands in the dialogue phase deterministically
  // (a reset right after accept can race the connect completion instead).
  const result = await runCheckFromConfig({
    kind: 'tcp',
    tcp: { host: '127.0.0.1', port: mail.port, banner: '^220', steps: [{ send: 'RESET', expect: '^\\+OK' }] },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'reset');
  assert.equal(result.error?.code, 'CONNECTION_RESET');
  assert.equal(result.error?.phase, 'dialogue');
  assert.equal(
    result.error?.message,
    `server 127.0.0.1:${mail.port} reset the connection while we waited for the reply to step 1`,
  );
});

test('implicit TLS: the banner and steps run over TLS, with the certificate in the details', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    tls: { caRoots: 'replace', ca: pki.ca.certFile },
    tcp: {
      host: '127.0.0.1',
      port: imaps.port,
      banner: '^\\* OK',
      steps: [{ send: 'PING', expect: '^\\+PONG$' }],
      tls: true,
    },
  });
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.tls, 'number');
  assert.deepEqual(imaps.received, ['PING\r\n']);
  const details = result.details?.tls as {
    protocol: string;
    certificate: { subject: string; fingerprint256: string };
  };
  assert.equal(details.protocol, 'TLSv1.3');
  assert.equal(details.certificate.subject, 'CN=localhost');
  assert.equal(details.certificate.fingerprint256, new X509Certificate(pki.valid.cert).fingerprint256);
});

test('implicit TLS with an expired certificate fails with class tls; with verify off the days limit still judges it', async () => {
  const verified = await runCheckFromConfig({
    kind: 'tcp',
    tls: { caRoots: 'replace', ca: pki.ca.certFile },
    tcp: { host: '127.0.0.1', port: imapsExpired.port, banner: '^\\* OK', tls: true },
  });
  assert.equal(verified.status, 'fail');
  assert.equal(verified.error?.class, 'tls');
  assert.equal(verified.error?.code, 'TLS_EXPIRED');
  assert.equal(verified.error?.phase, 'tls');
  const validTo = new Date(new X509Certificate(pki.expired.cert).validTo).toISOString().slice(0, 10);
  assert.equal(
    verified.error?.message,
    `certificate for localhost expired 365 days ago (valid to ${validTo})`,
  );
  const unverified = await runCheckFromConfig({
    kind: 'tcp',
    tls: { verify: false },
    tcp: { host: '127.0.0.1', port: imapsExpired.port, banner: '^\\* OK', tls: true },
  });
  assert.equal(unverified.status, 'fail');
  assert.equal(
    unverified.error?.class,
    'assertion',
    'the handshake was let through; the certificate still expired',
  );
  assert.equal(
    unverified.error?.message,
    `certificate for localhost expired 365 days ago (valid to ${validTo}): expected at least 7 days left (failDays)`,
  );
  assert.equal(unverified.details?.banner, '* OK IMAP ready', 'the dialogue ran');
});

test('an unreadable CA file is a config error, and no connection is made', async () => {
  const result = await runCheckFromConfig({
    kind: 'tcp',
    tls: { caRoots: 'replace', ca: '/nonexistent/pathwatch-ca.pem' },
    tcp: { host: '127.0.0.1', port: imaps.port, tls: true },
  });
  assert.equal(result.status, 'error');
  assert.equal(result.error?.class, 'config');
  assert.equal(result.error?.code, 'CONFIG');
  assert.equal(result.error?.message, 'tls.ca: cannot read /nonexistent/pathwatch-ca.pem (ENOENT)');
  assert.deepEqual(result.peers, []);
});

test('bad tcp options are all reported at once, each naming the field', async () => {
  const error = await parseConfig(
    {
      locations: { local: {} },
      checks: [
        {
          id: 'bad-tcp',
          kind: 'tcp',
          tls: { verfiy: false },
          tcp: {
            host: 'tcp://mail.example:25',
            port: 70000,
            banner: '^(SSH',
            steps: [{}, { send: 'HELO', expect: '[' }],
            tls: true,
          },
        },
      ],
    },
    '/tmp/test.yaml',
    {},
  ).then(
    () => assert.fail('expected a ConfigError'),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof ConfigError, String(error));
  const lines = error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  assert.deepEqual(lines, [
    'checks[0].tcp.banner: not a valid regular expression: "^(SSH"',
    'checks[0].tcp.host: expected a host name or IP address without scheme, port or path, such as "mail.example", "10.0.0.5" or "::1", got "tcp://mail.example:25"',
    'checks[0].tcp.port: expected a port number from 1 to 65535, got 70000',
    'checks[0].tcp.steps[0]: a step needs "send", "expect" or both',
    'checks[0].tcp.steps[1].expect: not a valid regular expression: "["',
    'checks[0].tls.verfiy: unknown key "verfiy", did you mean "verify"?',
  ]);
});
