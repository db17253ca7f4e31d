import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface ReceivedMessage {
  from: string;
  to: string[];
  /** The raw message as the server received it (headers and body, CRLF). */
  data: string;
  /** Who logged in on that session, if anyone did. */
  user?: string;
}

export interface TestSmtpServer {
  port: number;
  /** Messages accepted so far, in order. */
  messages: ReceivedMessage[];
  close(): Promise<void>;
}

export interface TestSmtpServerOptions {
  /** Certificate for STARTTLS (or for implicit TLS with `implicitTls`); without it no TLS is offered. */
  tls?: { key: string; cert: string };
  /** Speak TLS from the first byte (SMTPS) instead of offering STARTTLS. */
  implicitTls?: boolean;
  /** Accepted logins, user name → password. */
  users?: Record<string, string>;
  /** AUTH mechanisms offered; default PLAIN and LOGIN. */
  authMethods?: string[];
  /** Listen on this port (to start a stopped server again where clients expect it); default a free one. */
  port?: number;
  /** How long close() lets open sessions (a client's pooled connections) go on; default smtp-server's 30 s. */
  closeTimeoutMs?: number;
}

/** Recipients in this domain are delivered; any other is refused as relaying. */
export const LOCAL_DOMAIN = 'example.test';

/**
 * A real SMTP server (nodemailer's smtp-server) on 127.0.0.1, port 0: STARTTLS when given
 * a certificate, AUTH PLAIN/LOGIN for the given users (offered only once TLS is up),
 * relay refused outside example.test with `554 5.7.1 Relay access denied`, and every
 * accepted message answered `250 Ok: queued as TEST<n>`.
 */
export async function startSmtpServer(options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMessage[] = [];
  const users = options.users ?? {};
  const serverOptions: SMTPServerOptions = {
    secure: options.implicitTls === true,
    key: options.tls?.key,
    cert: options.tls?.cert,
    disabledCommands: options.tls ? [] : ['STARTTLS'],
    banner: 'pathwatch test ESMTP',
    closeTimeout: options.closeTimeoutMs,
    logger: false,
    authMethods: options.authMethods ?? ['PLAIN', 'LOGIN'],
    // Its default reverse lookup of the client address would ask the system resolver.
    disableReverseLookup: true,
    authOptional: true,
    // Without TLS at all, AUTH has to be allowed in clear or it would never be offered.
    allowInsecureAuth: !options.tls,
    onAuth(auth, _session, callback) {
      if (auth.username && users[auth.username] === auth.password) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, callback) {
      if (address.address.toLowerCase().endsWith(`@${LOCAL_DOMAIN}`)) {
        callback();
        return;
      }
      callback(Object.assign(new Error('5.7.1 Relay access denied'), { responseCode: 554 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((recipient) => recipient.address),
          data: Buffer.concat(chunks).toString('utf8'),
          user: typeof session.user === 'string' ? session.user : undefined,
        });
        callback(null, `Ok: queued as TEST${messages.length}`);
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  // A client that rejects the certificate aborts the handshake: an event, not a crash.
  server.on('error', () => {});
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server.server, 'listening');
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
