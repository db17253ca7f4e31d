import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { RunResult } from '../../src/results/run-result.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';
import { createTestPki, type TestPki } from '../helpers/test-certificates.ts';
import { closedPort, startSilentServer, type TestServer } from '../helpers/test-servers.ts';
import { startSmtpServer, type TestSmtpServer } from '../helpers/test-smtp-server.ts';

const PASSWORD = 'Tr0ub4dor&3-smtp';
const env = { SMTP_PASSWORD: PASSWORD, WRONG_PASSWORD: 'not-the-password' };

let pki: TestPki;
let mail: TestSmtpServer;
let plainOnly: TestSmtpServer;
let expired: TestSmtpServer;
let implicit: TestSmtpServer;
let loginOnly: TestSmtpServer;
let silent: TestServer;
let notSmtp: Greeter;
let mute: Greeter;

interface Greeter {
  port: number;
  /** Resolves once every connection to it has been closed by the client. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/** A TCP server that greets every connection with `greeting` and then never says another word. */
async function startGreeter(greeting: string): Promise<Greeter> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.resume(); // read (and drop) what the client sends, so its FIN is seen
    socket.write(greeting);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    drained: async () => {
      await Promise.all([...sockets].map((socket) => (socket.closed ? undefined : once(socket, 'close'))));
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

before(async () => {
  pki = createTestPki();
  const users = { demo: PASSWORD };
  mail = await startSmtpServer({ tls: { key: pki.valid.key, cert: pki.valid.cert }, users });
  plainOnly = await startSmtpServer({ users });
  expired = await startSmtpServer({ tls: { key: pki.expired.key, cert: pki.expired.cert }, users });
  implicit = await startSmtpServer({
    tls: { key: pki.valid.key, cert: pki.valid.cert },
    implicitTls: true,
    users,
  });
  loginOnly = await startSmtpServer({
    tls: { key: pki.valid.key, cert: pki.valid.cert },
    users,
    authMethods: ['LOGIN'],
  });
  silent = await startSilentServer();
  notSmtp = await startGreeter('HTTP/1.1 400 Bad Request\r\n\r\n');
  mute = await startGreeter('220 mute.example.test ESMTP\r\n');
});

after(async () => {
  await Promise.all([
    mail.close(),
    plainOnly.close(),
    expired.close(),
    implicit.close(),
    loginOnly.close(),
    silent.close(),
    notSmtp.close(),
    mute.close(),
  ]);
});

/** An smtp check on 127.0.0.1:`port`; `smtp` adds to its smtp block, `extra` to the check. */
function smtpCheck(
  port: number,
  extra: Record<string, unknown> = {},
  smtp: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    kind: 'smtp',
    tls: { caRoots: 'add', ca: pki.ca.certFile },
    ...extra,
    smtp: { host: '127.0.0.1', port, ehloName: 'probe.pathwatch.test', ...smtp },
  };
}

const login = { username: 'demo', password: '${env:SMTP_PASSWORD}' };

/** A detail the run must have recorded. */
function detail<T>(result: RunResult, key: string): T {
  const value = result.details?.[key];
  assert.ok(value !== undefined, `details.${key} is recorded`);
  return value as T;
}

test('STARTTLS, AUTH and a test message pass with every phase timed and the queue id kept', async () => {
  const before = mail.messages.length;
  const result = await runCheckFromConfig(
    smtpCheck(
      mail.port,
      { auth: login },
      { message: { from: 'probe@example.test', to: 'inbox@example.test', subject: 'pathwatch ✓ check' } },
    ),
    env,
  );
  assert.equal(result.status, 'pass', result.error?.message);
  for (const phase of [
    'connect',
    'banner',
    'ehlo',
    'starttls',
    'tls',
    'auth',
    'mail',
    'rcpt',
    'data',
    'quit',
  ])
    assert.equal(typeof result.phases[phase], 'number', `phase ${phase} is measured`);
  assert.equal(result.phases.dns, undefined, 'an IP literal needs no lookup');
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: mail.port }]);
  const details = result.details ?? {};
  assert.match(String(details.banner), /^220 .*pathwatch test ESMTP/);
  assert.ok((details.extensionsBeforeTls as string[]).includes('STARTTLS'));
  assert.ok(
    (details.extensions as string[]).some((line) => line.startsWith('AUTH ')),
    'AUTH offered after TLS',
  );
  const session = details.tlsSession as { via: string; protocol: string; validTo: string; subject: string };
  assert.equal(session.via, 'starttls');
  assert.match(session.protocol, /^TLSv1\.[23]$/);
  assert.ok(Date.parse(session.validTo) > Date.now());
  assert.deepEqual(details.auth, { username: 'demo', mechanism: 'PLAIN', offered: ['PLAIN', 'LOGIN'] });
  const sent = details.message as { queuedAs: string; messageId: string; reply: string };
  assert.equal(sent.queuedAs, `TEST${before + 1}`);
  assert.ok(result.assertions?.every((assertion) => assertion.ok));

  const received = mail.messages.at(-1);
  assert.ok(received, 'the server got the message');
  assert.equal(received.from, 'probe@example.test');
  assert.deepEqual(received.to, ['inbox@example.test']);
  assert.equal(received.user, 'demo');
  assert.match(received.data, /^Subject: =\?UTF-8\?B\?/m);
  assert.match(received.data, new RegExp(`^Message-ID: <${sent.messageId}>`, 'm'));
  assert.match(received.data, /^Auto-Submitted: auto-generated/m);
  assert.ok(!JSON.stringify(result).includes(PASSWORD), 'the password never appears in the result');
});

test('a host name is looked up and the certificate is verified against that name', async () => {
  const result = await runCheckFromConfig(smtpCheck(mail.port, { auth: login }, { host: 'localhost' }), env);
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.dns, 'number');
  assert.equal(result.peers.length, 1);
  assert.equal(result.peers[0].port, mail.port);
  assert.equal(detail<{ subject: string }>(result, 'tlsSession').subject, 'localhost');
});

test('AUTH LOGIN is used when the server offers only LOGIN', async () => {
  const result = await runCheckFromConfig(smtpCheck(loginOnly.port, { auth: login }), env);
  assert.equal(result.status, 'pass', result.error?.message);
  assert.deepEqual(result.details?.auth, { username: 'demo', mechanism: 'LOGIN', offered: ['LOGIN'] });
  const wrong = await runCheckFromConfig(
    smtpCheck(loginOnly.port, { auth: { username: 'demo', password: '${env:WRONG_PASSWORD}' } }),
    env,
  );
  assert.equal(wrong.error?.class, 'auth');
  assert.equal(wrong.error?.code, 'AUTH_REJECTED');
  assert.match(wrong.error?.message ?? '', /^AUTH LOGIN as demo rejected: 535 /);
});

test('a server that refuses to relay fails with its own reason naming relay denial', async () => {
  const result = await runCheckFromConfig(
    smtpCheck(
      mail.port,
      { auth: login },
      { message: { from: 'probe@example.test', to: ['inbox@example.test', 'x@elsewhere.example'] } },
    ),
    env,
  );
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'assertion');
  assert.equal(result.error?.code, 'REPLY_REJECTED');
  assert.equal(result.error?.phase, 'rcpt');
  assert.equal(
    result.error?.message,
    'RCPT TO:<x@elsewhere.example> rejected: 554 5.7.1 Relay access denied',
  );
  const failed = result.assertions?.find((assertion) => !assertion.ok);
  assert.deepEqual(failed, {
    name: 'RCPT TO:<x@elsewhere.example> → 250 or 251',
    ok: false,
    expected: '250 or 251',
    actual: '554 5.7.1 Relay access denied',
  });
});

test('a wrong password fails with class auth, AUTH_REJECTED, and never shows the password', async () => {
  const result = await runCheckFromConfig(
    smtpCheck(mail.port, { auth: { username: 'demo', password: '${env:WRONG_PASSWORD}' } }),
    env,
  );
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'auth');
  assert.equal(result.error?.code, 'AUTH_REJECTED');
  assert.equal(result.error?.phase, 'auth');
  assert.match(result.error?.message ?? '', /^AUTH PLAIN as demo rejected: 535 /);
  assert.ok(!JSON.stringify(result).includes('not-the-password'));
});

test('STARTTLS required but not offered fails with class tls and lists what EHLO offered', async () => {
  const result = await runCheckFromConfig(smtpCheck(plainOnly.port));
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'tls');
  assert.equal(result.error?.code, 'STARTTLS_REFUSED');
  assert.equal(result.error?.phase, 'ehlo');
  assert.match(
    result.error?.message ?? '',
    new RegExp(
      `^STARTTLS required but 127\\.0\\.0\\.1:${plainOnly.port} does not offer it \\(EHLO offers: .*PIPELINING`,
    ),
  );
  assert.deepEqual(
    result.assertions?.find((assertion) => assertion.name === 'STARTTLS offered'),
    { name: 'STARTTLS offered', ok: false, expected: 'STARTTLS in the EHLO reply', actual: 'not offered' },
  );
});

test('opportunistic TLS carries on in clear when STARTTLS is not offered', async () => {
  const result = await runCheckFromConfig(smtpCheck(plainOnly.port, {}, { tls: 'opportunistic' }));
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(result.details?.tlsSession, undefined);
  assert.equal(result.phases.tls, undefined);
});

test('an expired certificate behind STARTTLS fails with class tls naming the cause', async () => {
  const result = await runCheckFromConfig(smtpCheck(expired.port, { auth: login }), env);
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'tls');
  assert.equal(result.error?.code, 'TLS_EXPIRED');
  assert.equal(result.error?.phase, 'tls');
  assert.equal(
    result.error?.message,
    `STARTTLS with 127.0.0.1:${expired.port} failed: certificate has expired`,
  );
});

test('implicit TLS (SMTPS) is TLS from the first byte', async () => {
  const result = await runCheckFromConfig(
    smtpCheck(implicit.port, { auth: login }, { tls: 'implicit' }),
    env,
  );
  assert.equal(result.status, 'pass', result.error?.message);
  assert.equal(typeof result.phases.tls, 'number');
  assert.equal(result.phases.starttls, undefined);
  assert.equal(detail<{ via: string }>(result, 'tlsSession').via, 'implicit');
});

test('a server that accepts and never answers times out waiting for the banner', async () => {
  const result = await runCheckFromConfig(smtpCheck(silent.port, { timeout: '300ms' }));
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.code, 'TIMEOUT');
  assert.equal(result.error?.phase, 'banner');
  assert.equal(
    result.error?.message,
    `127.0.0.1:${silent.port} accepted the connection but sent no SMTP banner within 300 ms`,
  );
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: silent.port }]);
  assert.ok(result.phases.total >= 290 && result.phases.total < 2000, `total ${result.phases.total}`);
});

test('a server that greets and then goes quiet times out naming EHLO, and the socket is closed', async () => {
  const result = await runCheckFromConfig(smtpCheck(mute.port, { timeout: '300ms' }));
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'timeout');
  assert.equal(result.error?.phase, 'ehlo');
  assert.equal(
    result.error?.message,
    `waiting for the reply to EHLO from 127.0.0.1:${mute.port} timed out after 300 ms`,
  );
  assert.equal(result.details?.banner, '220 mute.example.test ESMTP');
  await mute.drained();
});

test('a closed port fails with class refused', async () => {
  const port = await closedPort();
  const result = await runCheckFromConfig(smtpCheck(port));
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  assert.equal(result.error?.message, `connect to 127.0.0.1:${port} refused`);
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port }]);
});

test('a server that does not speak SMTP fails with class protocol', async () => {
  const result = await runCheckFromConfig(smtpCheck(notSmtp.port));
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'protocol');
  assert.equal(result.error?.code, 'PROTOCOL');
  assert.equal(
    result.error?.message,
    `127.0.0.1:${notSmtp.port} sent a line that is not an SMTP reply: "HTTP/1.1 400 Bad Request" instead of a banner`,
  );
});

test('a missing password secret is refused when the config loads, naming the field', async () => {
  const before = mail.messages.length;
  await assert.rejects(
    runCheckFromConfig(
      smtpCheck(
        mail.port,
        { auth: { username: 'demo', password: '${env:NOT_SET_ANYWHERE}' } },
        { message: { from: 'probe@example.test', to: 'inbox@example.test' } },
      ),
    ),
    /checks\[0\]\.auth\.password: secret \$\{env:NOT_SET_ANYWHERE\}: environment variable NOT_SET_ANYWHERE is not set/,
  );
  assert.equal(mail.messages.length, before);
});

test('a CA file that cannot be read is a config error naming the file, and nothing is sent', async () => {
  const result = await runCheckFromConfig(
    smtpCheck(mail.port, { tls: { caRoots: 'add', ca: '/nonexistent/ca.pem' } }),
  );
  assert.equal(result.status, 'error');
  assert.equal(result.error?.class, 'config');
  assert.equal(result.error?.message, 'tls.ca: cannot read /nonexistent/ca.pem (ENOENT)');
  assert.deepEqual(result.peers, []);
});

test('an inline password is refused by the schema', async () => {
  await assert.rejects(
    runCheckFromConfig(smtpCheck(mail.port, { auth: { username: 'demo', password: 'hunter2' } })),
    /checks\[0\]\.auth\.password: must be a secret reference/,
  );
});

test('plain text sent after the STARTTLS reply, before the handshake, fails with class protocol', async () => {
  // The STARTTLS command-injection pattern (CVE-2011-0411): a reply that arrives in clear
  // after "220 go ahead" would otherwise be read as if it came over TLS.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.write('220 inject.example.test ESMTP\r\n');
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
        const line = buffered.slice(0, end).trim().toUpperCase();
        buffered = buffered.slice(end + 1);
        if (line.startsWith('EHLO')) socket.write('250-inject.example.test\r\n250 STARTTLS\r\n');
        else if (line === 'STARTTLS') socket.write('220 go ahead\r\n250 injected\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const port = (server.address() as AddressInfo).port;
    const result = await runCheckFromConfig(smtpCheck(port));
    assert.equal(result.status, 'fail');
    assert.equal(result.error?.class, 'protocol');
    assert.equal(result.error?.code, 'PROTOCOL');
    assert.equal(result.error?.phase, 'tls');
    assert.equal(
      result.error?.message,
      `server 127.0.0.1:${port} sent 14 unencrypted bytes before the TLS handshake`,
    );
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
