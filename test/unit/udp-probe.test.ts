import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';
import { runCheckFromConfig } from '../helpers/check-fixtures.ts';

/**
 * Issue 12, done-when 2: a `udp` kind added as one folder (src/checks/udp/), one registry
 * line and its generated README table, tested against real UDP servers on loopback.
 */
let echo: Socket;
let echoPort: number;
let silent: Socket;
let silentPort: number;
let closedPort: number;
const received: Buffer[] = [];

async function bound(socket: Socket): Promise<number> {
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  return socket.address().port;
}

before(async () => {
  // Answers "PONG <what it got>", as a health endpoint of a UDP service would.
  echo = createSocket('udp4');
  echo.on('message', (message, from) => {
    received.push(message);
    echo.send(Buffer.concat([Buffer.from('PONG '), message]), from.port, from.address);
  });
  echoPort = await bound(echo);
  silent = createSocket('udp4');
  silentPort = await bound(silent);
  // A port bound a moment ago and closed: nothing listens there now.
  const gone = createSocket('udp4');
  closedPort = await bound(gone);
  gone.close();
});

after(() => {
  echo.close();
  silent.close();
});

test('a datagram out and a matching reply back: pass, with its timings, peer and reply', async () => {
  const result = await runCheckFromConfig(
    {
      kind: 'udp',
      timeout: '2s',
      udp: { host: '127.0.0.1', port: echoPort, send: 'PING ${env:UDP_TOKEN}', expect: '^PONG PING' },
    },
    { UDP_TOKEN: 'sesame-4417' },
  );
  assert.equal(result.status, 'pass', JSON.stringify(result.error));
  assert.deepEqual(result.peers, [{ ip: '127.0.0.1', port: echoPort }]);
  assert.ok(result.phases.reply !== undefined && result.phases.reply >= 0);
  assert.equal(received.at(-1)?.toString(), 'PING sesame-4417', 'the secret was sent as resolved');
  assert.equal(JSON.stringify(result).includes('sesame-4417'), false, 'and is kept nowhere in the result');
  assert.equal((result.details as { bytesSent: number }).bytesSent, 'PING sesame-4417'.length);
});

test('binary payloads go as sendHex; a name is looked up first (dns phase)', async () => {
  const result = await runCheckFromConfig({
    kind: 'udp',
    udp: {
      host: 'localhost',
      port: echoPort,
      ipVersion: 4,
      sendHex: '00ff10',
      expect: '^PONG \\x00\\xff\\x10$',
    },
  });
  assert.equal(result.status, 'pass', JSON.stringify(result.error));
  assert.ok(result.phases.dns !== undefined);
  assert.deepEqual([...received.at(-1)!], [0x00, 0xff, 0x10]);
});

test('a reply that does not match fails with ASSERTION and quotes the reply', async () => {
  const result = await runCheckFromConfig({
    kind: 'udp',
    udp: { host: '127.0.0.1', port: echoPort, send: 'HELLO', expect: '^OK' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.code, 'ASSERTION');
  assert.equal(
    result.error?.message,
    `the reply from 127.0.0.1:${echoPort} does not match /^OK/: "PONG HELLO"`,
  );
});

test('no reply within the timeout is TIMEOUT in the reply phase, on time', async () => {
  const started = Date.now();
  const result = await runCheckFromConfig({
    kind: 'udp',
    timeout: '500ms',
    udp: { host: '127.0.0.1', port: silentPort, send: 'anyone?' },
  });
  const took = Date.now() - started;
  assert.equal(result.status, 'fail');
  assert.deepEqual(
    { class: result.error?.class, code: result.error?.code, phase: result.error?.phase },
    { class: 'timeout', code: 'TIMEOUT', phase: 'reply' },
  );
  assert.equal(
    result.error?.message,
    `waiting for a reply from 127.0.0.1:${silentPort} timed out after 500 ms`,
  );
  assert.ok(took < 2000, `took ${took} ms`);
  assert.deepEqual(
    result.peers,
    [{ ip: '127.0.0.1', port: silentPort }],
    'the peer is known, for the capture',
  );
});

test('a port where nothing listens answers ICMP port unreachable: refused, said as such', async () => {
  const result = await runCheckFromConfig({
    kind: 'udp',
    timeout: '2s',
    udp: { host: '127.0.0.1', port: closedPort, send: 'anyone?' },
  });
  assert.equal(result.status, 'fail');
  assert.equal(result.error?.class, 'refused');
  assert.equal(result.error?.code, 'CONNECT_REFUSED');
  assert.match(result.error?.message ?? '', /refused the datagram \(ICMP port unreachable\)/);
});

async function problemsOf(check: Record<string, unknown>): Promise<string[]> {
  try {
    await parseConfig(
      { locations: { local: {} }, checks: [{ id: 'u', kind: 'udp', ...check }] },
      '/tmp/udp.yaml',
    );
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
}

test('bad udp settings: one line each, with the path', async () => {
  const target = { host: '127.0.0.1', port: 53 };
  const exactlyOne =
    'checks[0].udp.send: set exactly one of send (text) and sendHex (bytes): the datagram to send';
  assert.deepEqual(await problemsOf({ udp: target }), [exactlyOne]);
  assert.deepEqual(await problemsOf({ udp: { ...target, send: 'a', sendHex: '00' } }), [exactlyOne]);
  assert.deepEqual(await problemsOf({ udp: { ...target, sendHex: 'abc' } }), [
    'checks[0].udp.sendHex: expected an even number of hex digits, such as "0a1b"',
  ]);
  const [badRegex] = await problemsOf({ udp: { ...target, send: 'a', expect: '(' } });
  assert.match(badRegex, /^checks\[0\]\.udp\.expect: not a valid regular expression: "\("/);
  assert.deepEqual(await problemsOf({ udp: { ...target, send: 'a' }, tls: {} }), [
    'checks[0].tls: a udp check never speaks TLS: remove this block',
  ]);
});
