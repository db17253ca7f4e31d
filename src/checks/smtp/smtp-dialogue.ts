import { isIP, connect as netConnect, type Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import {
  type CertificateFacts,
  judgeExpiry,
  observeTlsSession,
} from '../../assertions/certificate-checks.ts';
import { DEFAULT_TLS_SETTINGS } from '../../config/tls-settings.ts';
import { type CodedRunError, type ErrorCode, errorOf } from '../../results/error-codes.ts';
import type { AssertionResult, Peer, ProbeOutcome } from '../../results/run-result.ts';
import { summarizeTls, tlsConnection, tlsFileErrorOutcome } from '../certificate-options.ts';
import { ProbeError } from '../errors/probe-error.ts';
import { TlsFileError } from '../errors/tls-file-error.ts';
import { classifyNetworkError, timeoutError } from '../network-error.ts';
import { PhaseClock } from '../phase-clock.ts';
import type { ProbeContext } from '../probe.ts';
import { addPeer, formatTarget, lookupHost, unbracket } from '../remote-endpoint.ts';
import type { SmtpCheck } from '../smtp.ts';
import { SmtpClosedError } from './smtp-closed-error.ts';
import { SmtpConnection } from './smtp-connection.ts';
import { ehloExtensions, extensionParameters, queuedAs, replyText, type SmtpReply } from './smtp-reply.ts';
import { SmtpSyntaxError } from './smtp-syntax-error.ts';
import { buildTestMessage } from './test-message.ts';

/** After a refusal the server still answers: wait this long for its 221 to QUIT, no longer. */
const QUIT_AFTER_FAILURE_MS = 1000;

/** Replies to AUTH that refuse the login itself (RFC 4954): bad credentials, a mechanism too weak, authentication required. */
const LOGIN_REFUSED = new Set([535, 534, 530]);

/** EHLO answers that mean "I only speak HELO" (RFC 5321 4.1.4 lets the client fall back). */
const EHLO_UNSUPPORTED = new Set([500, 502, 504, 550]);

/** One run of an smtp check: the dialogue, its phase timings and what it learned. */
export class SmtpDialogue {
  private readonly clock = new PhaseClock();
  private readonly peers: Peer[] = [];
  private readonly assertions: AssertionResult[] = [];
  private readonly details: Record<string, unknown>;
  private readonly port: number;
  private readonly ehloName: string;
  private target: string;
  /** What the server is being waited for, for timeout messages; never holds credentials. */
  private pending: string | undefined;
  private connection: SmtpConnection | undefined;
  private encrypted = false;
  private readonly settings: SmtpCheck['smtp'];
  /** The server's certificate, once TLS is up: its expiry is judged when the dialogue is done. */
  private certificate: CertificateFacts | undefined;
  private degraded = false;

  constructor(
    private readonly check: SmtpCheck,
    private readonly context: ProbeContext,
    ehloName: string,
  ) {
    this.settings = check.smtp;
    this.port = this.settings.port ?? (this.settings.tls === 'implicit' ? 465 : 25);
    this.target = `${this.settings.host}:${this.port}`;
    this.ehloName = ehloName.replace(/[^A-Za-z0-9.[\]:-]/g, '-') || 'localhost';
    this.details = { host: this.settings.host, port: this.port, tls: this.settings.tls };
  }

  async run(): Promise<ProbeOutcome> {
    let tlsOptions: ConnectionOptions = {};
    try {
      if (this.settings.tls !== 'none')
        tlsOptions = (await tlsConnection(this.check.tls, this.settings.host, this.context)).options;
    } catch (error) {
      if (!(error instanceof TlsFileError)) throw error;
      return tlsFileErrorOutcome(error, this.details);
    }
    // Resolved before any packet is sent: a missing secret is a config error, not a failed login.
    const password = this.check.auth?.password
      ? this.context.secrets.interpolate(this.check.auth.password)
      : undefined;
    const onAbort = () => this.connection?.abort();
    this.context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.converse(tlsOptions, password);
      const phases = this.clock.finish();
      return {
        status: this.degraded ? 'degraded' : 'pass',
        phases,
        peers: this.peers,
        assertions: this.assertions,
        details: this.details,
      };
    } catch (error) {
      const runError = this.describe(error);
      if (error instanceof ProbeError && this.connection && !this.context.signal.aborted)
        await this.connection.quitQuietly(QUIT_AFTER_FAILURE_MS);
      return {
        status: 'fail',
        phases: this.clock.finish(),
        peers: this.peers,
        error: runError,
        assertions: this.assertions,
        details: this.details,
      };
    } finally {
      this.context.signal.removeEventListener('abort', onAbort);
      this.connection?.destroy();
    }
  }

  private async converse(tlsOptions: ConnectionOptions, password: string | undefined): Promise<void> {
    const { check, settings } = this;
    if (isIP(unbracket(settings.host)) === 0) this.clock.enter('dns');
    const ip = await lookupHost(settings.host, this.context.signal);
    this.target = formatTarget(ip, this.port);
    addPeer(this.peers, ip, this.port);

    this.clock.enter('connect');
    const implicit = settings.tls === 'implicit';
    const socket: Socket = implicit
      ? tlsConnect({ ...tlsOptions, host: ip, port: this.port })
      : netConnect({ host: ip, port: this.port });
    this.connection = new SmtpConnection(socket);
    if (this.context.signal.aborted) this.connection.abort();
    socket.once('connect', () => this.clock.enter(implicit ? 'tls' : 'banner'));
    if (implicit)
      socket.once('secureConnect', () => {
        this.encrypted = true;
        this.details.tlsSession = { via: 'implicit', ...summarizeTls(socket as TLSSocket) };
        this.certificate = observeTlsSession(socket as TLSSocket).facts.certificate;
        this.clock.enter('banner');
      });

    this.pending = 'the banner';
    const banner = await this.connection.read();
    this.details.banner = replyText(banner);
    this.expect('banner', banner, [220], 'PROTOCOL');

    let extensions = await this.hello();
    if (settings.tls === 'starttls' || settings.tls === 'opportunistic') {
      const offered = extensionParameters(extensions, 'STARTTLS') !== undefined;
      if (settings.tls === 'starttls')
        this.assertions.push({
          name: 'STARTTLS offered',
          ok: offered,
          expected: 'STARTTLS in the EHLO reply',
          actual: offered ? 'offered' : 'not offered',
        });
      if (offered) {
        this.details.extensionsBeforeTls = extensions;
        await this.startTls({ ...tlsOptions, host: ip });
        extensions = await this.hello();
      } else if (settings.tls === 'starttls') {
        throw ProbeError.of(
          'STARTTLS_REFUSED',
          `STARTTLS required but ${this.target} does not offer it (EHLO offers: ${extensions.join(', ') || 'no extensions'})`,
          'ehlo',
        );
      }
    }
    if (check.auth?.username !== undefined && password !== undefined)
      await this.authenticate(check.auth.username, password, extensions);
    if (settings.message) await this.sendMessage(settings.message);
    this.judgeCertificate();

    this.clock.enter('quit');
    const bye = await this.command('QUIT');
    this.expect('QUIT', bye, [221], 'PROTOCOL');
  }

  /** EHLO, or HELO when the server does not know EHLO; returns the extensions offered. */
  private async hello(): Promise<string[]> {
    this.clock.enter('ehlo');
    const ehlo = await this.command(`EHLO ${this.ehloName}`, 'EHLO');
    if (EHLO_UNSUPPORTED.has(ehlo.code)) {
      const helo = await this.command(`HELO ${this.ehloName}`, 'HELO');
      this.expect('HELO', helo, [250], 'PROTOCOL');
      this.details.greeting = helo.lines[0];
      this.details.extensions = [];
      return [];
    }
    this.expect('EHLO', ehlo, [250], 'PROTOCOL');
    const extensions = ehloExtensions(ehlo);
    this.details.greeting = ehlo.lines[0];
    this.details.extensions = extensions;
    return extensions;
  }

  private async startTls(tlsOptions: ConnectionOptions): Promise<void> {
    const connection = this.requireConnection();
    this.clock.enter('starttls');
    const ready = await this.command('STARTTLS');
    this.expect('STARTTLS', ready, [220], 'STARTTLS_REFUSED');
    this.clock.enter('tls');
    this.pending = 'the TLS handshake';
    const secure = await connection.startTls(tlsOptions);
    this.encrypted = true;
    this.details.tlsSession = { via: 'starttls', ...summarizeTls(secure) };
    this.certificate = observeTlsSession(secure).facts.certificate;
  }

  /** The `tls` block's expiry limits, judged as for every kind, once the dialogue has worked. */
  private judgeCertificate(): void {
    if (!this.certificate) return;
    const expiry = judgeExpiry(this.certificate, this.check.tls ?? DEFAULT_TLS_SETTINGS);
    this.assertions.push(...expiry.assertions);
    if (expiry.error) throw new ProbeError(expiry.error);
    this.degraded = expiry.degraded;
  }

  private async authenticate(username: string, password: string, extensions: string[]): Promise<void> {
    this.clock.enter('auth');
    const offered = extensionParameters(extensions, 'AUTH');
    const ehloOffers = `EHLO offers: ${extensions.join(', ') || 'no extensions'}`;
    if (!offered || offered.length === 0) {
      const hint = this.encrypted
        ? ''
        : ' on an unencrypted connection (servers often offer it only after STARTTLS)';
      this.assertions.push({
        name: 'AUTH offered',
        ok: false,
        expected: 'AUTH in the EHLO reply',
        actual: 'not offered',
      });
      throw ProbeError.of(
        'AUTH_UNAVAILABLE',
        `AUTH not offered by ${this.target}${hint}; ${ehloOffers}`,
        'auth',
      );
    }
    const mechanism = offered.includes('PLAIN') ? 'PLAIN' : offered.includes('LOGIN') ? 'LOGIN' : undefined;
    if (!mechanism) {
      this.assertions.push({
        name: 'AUTH PLAIN or LOGIN offered',
        ok: false,
        expected: 'PLAIN or LOGIN',
        actual: offered.join(' '),
      });
      throw ProbeError.of(
        'AUTH_UNAVAILABLE',
        `AUTH on ${this.target} offers ${offered.join(' ')}; pathwatch logs in with PLAIN or LOGIN`,
        'auth',
      );
    }
    const label = `AUTH ${mechanism} as ${username}`;
    const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
    let reply: SmtpReply;
    if (mechanism === 'PLAIN') {
      const credentials = base64(`\0${username}\0${password}`);
      reply = await this.command(`AUTH PLAIN ${credentials}`, label);
      // A server that does not take the initial response asks for it with an empty 334.
      if (reply.code === 334) reply = await this.command(credentials, label);
    } else {
      reply = await this.command('AUTH LOGIN', label);
      this.expect(label, reply, [334], authCode(reply));
      reply = await this.command(base64(username), label);
      this.expect(label, reply, [334], authCode(reply));
      reply = await this.command(base64(password), label);
    }
    this.expect(label, reply, [235], authCode(reply));
    this.details.auth = { username, mechanism, offered };
  }

  private async sendMessage(message: NonNullable<SmtpCheck['smtp']['message']>): Promise<void> {
    const connection = this.requireConnection();
    this.clock.enter('mail');
    const mailFrom = `MAIL FROM:<${message.from}>`;
    this.expect(mailFrom, await this.command(mailFrom), [250], 'REPLY_REJECTED');
    this.clock.enter('rcpt');
    for (const recipient of message.to) {
      const rcptTo = `RCPT TO:<${recipient}>`;
      this.expect(rcptTo, await this.command(rcptTo), [250, 251], 'REPLY_REJECTED');
    }
    this.clock.enter('data');
    this.expect('DATA', await this.command('DATA'), [354], 'REPLY_REJECTED');
    const built = buildTestMessage({
      checkId: this.check.id,
      from: message.from,
      to: message.to,
      subject: message.subject,
      body: message.body,
    });
    this.pending = 'the end of the message (".")';
    connection.writeRaw(`${built.data}.\r\n`);
    const accepted = await connection.read();
    this.details.message = {
      from: message.from,
      to: message.to,
      messageId: built.messageId,
      reply: replyText(accepted),
      queuedAs: queuedAs(accepted),
    };
    this.expect('message', accepted, [250], 'REPLY_REJECTED');
  }

  /** Sends a command and waits for its reply; `label` replaces the command in messages when it holds a secret. */
  private command(line: string, label = line): Promise<SmtpReply> {
    this.pending = label;
    return this.requireConnection().command(line);
  }

  private expect(step: string, reply: SmtpReply, codes: number[], code: ErrorCode): void {
    const ok = codes.includes(reply.code);
    const wanted = codes.join(' or ');
    this.assertions.push({ name: `${step} → ${wanted}`, ok, expected: wanted, actual: replyText(reply) });
    if (ok) return;
    const text = replyText(reply);
    let message: string;
    if (step === 'banner') message = `${this.target} greeted with ${text}, expected ${wanted}`;
    else if (reply.code >= 400) message = `${step} rejected: ${text}`;
    else message = `${step} answered ${text}, expected ${wanted}`;
    throw ProbeError.of(code, message, this.clock.current);
  }

  private requireConnection(): SmtpConnection {
    if (!this.connection) throw new Error('smtp dialogue: no connection yet');
    return this.connection;
  }

  private describe(error: unknown): CodedRunError {
    if (error instanceof ProbeError) return error.runError;
    const phase = this.clock.current;
    if (this.context.signal.aborted)
      return timeoutError(
        phase,
        this.target,
        this.context.timeoutMs,
        phase === 'banner'
          ? { kind: 'first', what: 'SMTP banner' }
          : { kind: 'reply', what: `the reply to ${this.pending ?? phase}` },
      );
    if (error instanceof SmtpSyntaxError)
      return errorOf(
        'PROTOCOL',
        `${this.target} ${error.message}${phase === 'banner' ? ' instead of a banner' : this.pending ? ` in answer to ${this.pending}` : ''}`,
        phase,
      );
    if (error instanceof SmtpClosedError)
      return errorOf(
        'CONNECTION_CLOSED',
        phase === 'banner'
          ? `${this.target} closed the connection before sending its banner`
          : `${this.target} closed the connection instead of answering ${this.pending ?? phase}`,
        phase,
      );
    const runError = classifyNetworkError(error, phase, this.target);
    if (runError.class === 'tls' && this.settings.tls !== 'implicit')
      runError.message = runError.message.replace(/^TLS with/, 'STARTTLS with');
    return runError;
  }
}

/** A refused login is `auth`; any other answer where AUTH expected 334/235 is the server's own failure. */
function authCode(reply: SmtpReply): ErrorCode {
  return LOGIN_REFUSED.has(reply.code) ? 'AUTH_REJECTED' : 'REPLY_REJECTED';
}
