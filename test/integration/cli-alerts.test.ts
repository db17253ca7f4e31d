import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { mailHeader } from '../helpers/mail-headers.ts';
import { runCli } from '../helpers/run-cli.ts';
import { findLeaks } from '../helpers/secret-encodings.ts';
import { closedPort } from '../helpers/test-servers.ts';
import { startSmtpServer } from '../helpers/test-smtp-server.ts';

/** Issue 14: `pathwatch alerts test` says what the mail server said, or in one line why not. */
const dir = mkdtempSync(join(tmpdir(), 'pw-alerts-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function configFor(port: number, name: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      'locations: { inside: {} }',
      'alerting:',
      `  smtp: { host: 127.0.0.1, port: ${port} }`,
      '  from: pathwatch@example.test',
      '  to: [oncall@example.test]',
      '',
    ].join('\n'),
  );
  return file;
}

test('alerts test sends one mail through the configured server and prints its reply', async (t) => {
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  const result = await runCli([
    'alerts',
    'test',
    '--to',
    'me@example.test',
    '--config',
    configFor(smtp.port, 'up'),
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout.trim(),
    `sent to me@example.test through 127.0.0.1:${smtp.port}; the server answered: 250 Ok: queued as TEST1`,
  );
  assert.equal(smtp.messages.length, 1);
  assert.deepEqual(smtp.messages[0].to, ['me@example.test']);
  assert.equal(mailHeader(smtp.messages[0].data, 'Subject'), '[pathwatch] TEST Mail settings');
});

test('alerts test against a closed port prints one line saying so, no stack trace', async () => {
  const port = await closedPort();
  const result = await runCli(['alerts', 'test', '--config', configFor(port, 'down')]);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.equal(
    result.stderr,
    `pathwatch alerts test: mail server 127.0.0.1:${port} unreachable: connection refused\n`,
  );
});

test('a recipient the server refuses (554) is a clear line too', async (t) => {
  const smtp = await startSmtpServer({ closeTimeoutMs: 200 });
  t.after(() => smtp.close());
  const result = await runCli([
    'alerts',
    'test',
    '--to',
    'someone@elsewhere.org',
    '--config',
    configFor(smtp.port, 'relay'),
  ]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /^pathwatch alerts test: mail server 127\.0\.0\.1:\d+ refused the recipients: .*554 5\.7\.1 Relay access denied\n$/,
  );
});

test('a mail server that echoes the password in its refusal: the line says the login was refused, the password masked in every encoding', async (t) => {
  const password = 'Smtp-Pa55word/with+plus';
  const server = new SMTPServer({
    authMethods: ['PLAIN'],
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    // A careless server: its refusal quotes what it was sent, raw and base64.
    onAuth: (auth, _session, callback) =>
      callback(
        Object.assign(
          new Error(`bad password ${auth.password} (${Buffer.from(auth.password ?? '').toString('base64')})`),
          {
            responseCode: 535,
          },
        ),
      ),
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.server.address() as AddressInfo).port;
  const file = join(dir, 'echo.yaml');
  writeFileSync(
    file,
    [
      'locations: { inside: {} }',
      'alerting:',
      `  smtp: { host: 127.0.0.1, port: ${port}, user: pathwatch, password: "\${env:SMTP_PASSWORD}", requireTls: false }`,
      '  from: pathwatch@example.test',
      '  to: [oncall@example.test]',
      '',
    ].join('\n'),
  );
  const result = await runCli(['alerts', 'test', '--config', file], {
    env: { ...process.env, SMTP_PASSWORD: password },
  });
  assert.equal(result.code, 1, result.stderr);
  assert.match(
    result.stderr,
    /^pathwatch alerts test: mail server 127\.0\.0\.1:\d+ refused the login: .*535 bad password \*\*\*/,
  );
  assert.deepEqual(findLeaks(result.stdout + result.stderr, 'alerts test output', { password }), []);
});
