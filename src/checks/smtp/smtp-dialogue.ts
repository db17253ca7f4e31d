import { type CodedRunError, type ErrorCode, errorOf } from '../../results/error-codes.ts';
import type { ProbeOutcome } from '../../results/run-result.ts';
import type { TlsConnection } from '../certificate-options.ts';
import { DialogueRun } from '../dial/dialogue-run.ts';
import { ProbeError } from '../errors/probe-error.ts';
import { classifyNetworkError } from '../network-error.ts';
import type { ProbeContext } from '../probe.ts';
import type { SmtpCheck } from '../smtp.ts';
import { SocketDialogue, type TlsUpgradeOptions } from '../socket-dialogue.ts';
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
export class SmtpDialogue extends DialogueRun {
  private readonly port: number;
  private readonly ehloName: string;
  private target: string;
  /** What the server is being waited for, for timeout messages; never holds credentials. */
  private pending: string | undefined;
  private connection: SmtpConnection | undefined;
  private encrypted = false;
  private readonly settings: SmtpCheck['smtp'];

  constructor(
    private readonly check: SmtpCheck,
    context: ProbeContext,
    ehloName: string,
  ) {
    const port = check.smtp.port ?? (check.smtp.tls === 'implicit' ? 465 : 25);
    super(context, { host: check.smtp.host, port, tls: check.smtp.tls }, check.tls);
    this.settings = check.smtp;
    this.port = port;
    this.target = `${this.settings.host}:${this.port}`;
    this.ehloName = ehloName.replace(/[^A-Za-z0-9.[\]:-]/g, '-') || 'localhost';
  }

  async run(): Promise<ProbeOutcome> {
    const prepared = await this.prepare(this.settings.host, this.settings.tls !== 'none', this.check.auth);
    if (prepared.outcome) return prepared.outcome;
    const tlsOptions = prepared.tls ? verifyingUpgrade(prepared.tls) : {};
    try {
      await this.converse(tlsOptions, prepared.password);
      return this.outcome();
    } catch (error) {
      const runError = this.describe(error);
      if (error instanceof ProbeError && this.connection && !this.context.signal.aborted)
        await this.connection.quitQuietly(QUIT_AFTER_FAILURE_MS);
      return this.outcome(runError);
    } finally {
      this.connection?.close();
    }
  }

  private async converse(tlsOptions: TlsUpgradeOptions, password: string | undefined): Promise<void> {
    const { check, settings } = this;
    // The one dialer: every address in turn, so a dead IPv6 address does not fail the check.
    const dialogue = await SocketDialogue.open(this.dialOptions(settings.host, this.port));
    this.target = dialogue.target;
    this.connection = new SmtpConnection(dialogue);
    if (settings.tls === 'implicit') {
      this.pending = 'the TLS handshake';
      this.noteTlsSession(await this.connection.startTls(tlsOptions), 'implicit');
      this.encrypted = true;
    }
    this.clock.enter('banner');

    this.pending = 'the banner';
    const banner = await this.connection.read('the banner');
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
        await this.startTls(tlsOptions);
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

  private async startTls(tlsOptions: TlsUpgradeOptions): Promise<void> {
    const connection = this.requireConnection();
    this.clock.enter('starttls');
    const ready = await this.command('STARTTLS');
    this.expect('STARTTLS', ready, [220], 'STARTTLS_REFUSED');
    this.clock.enter('tls');
    this.pending = 'the TLS handshake';
    this.noteTlsSession(await connection.startTls(tlsOptions), 'starttls');
    this.encrypted = true;
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
    const accepted = await connection.read(`the reply to ${this.pending}`);
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
    return this.requireConnection().command(line, `the reply to ${label}`);
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
    const phase = this.clock.current;
    const coded = error instanceof ProbeError ? error.runError : undefined;
    // A timeout mid-dialogue is worded here (what SMTP step was due); dns and connect
    // timeouts come worded from the dialer, naming the address.
    if (this.context.signal.aborted && (coded === undefined || coded.code === 'TIMEOUT'))
      return this.timedOut(this.target, 'SMTP banner', {
        kind: 'reply',
        what: `the reply to ${this.pending ?? phase}`,
      });
    if (error instanceof SmtpSyntaxError)
      return errorOf(
        'PROTOCOL',
        `${this.target} ${error.message}${phase === 'banner' ? ' instead of a banner' : this.pending ? ` in answer to ${this.pending}` : ''}`,
        phase,
      );
    if (coded?.code === 'CONNECTION_CLOSED')
      return errorOf(
        'CONNECTION_CLOSED',
        phase === 'banner'
          ? `${this.target} closed the connection before sending its banner`
          : `${this.target} closed the connection instead of answering ${this.pending ?? phase}`,
        phase,
      );
    const runError = coded ?? classifyNetworkError(error, phase, this.target);
    if (runError.class === 'tls' && this.settings.tls !== 'implicit')
      return { ...runError, message: runError.message.replace(/^TLS with/, 'STARTTLS with') };
    return runError;
  }
}

/**
 * The `tls` block as a verifying upgrade: smtp refuses a certificate in the handshake, as a
 * mail client would, and checks it against the configured identity even for an IP address.
 */
function verifyingUpgrade(connection: TlsConnection): TlsUpgradeOptions {
  return { ...connection.options, host: connection.identity };
}

/** A refused login is `auth`; any other answer where AUTH expected 334/235 is the server's own failure. */
function authCode(reply: SmtpReply): ErrorCode {
  return LOGIN_REFUSED.has(reply.code) ? 'AUTH_REJECTED' : 'REPLY_REJECTED';
}
