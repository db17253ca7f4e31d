import { isIP, type Socket } from 'node:net';
import type { ConnectionOptions, TLSSocket } from 'node:tls';
import { Client, FTPError } from 'basic-ftp';
import {
  type CertificateFacts,
  judgeExpiry,
  observeTlsSession,
} from '../../assertions/certificate-checks.ts';
import { DEFAULT_TLS_SETTINGS } from '../../config/tls-settings.ts';
import { type CodedRunError, errorOf } from '../../results/error-codes.ts';
import type { AssertionResult, Peer, ProbeOutcome } from '../../results/run-result.ts';
import { summarizeTls, tlsConnection, tlsFileErrorOutcome } from '../certificate-options.ts';
import { ProbeError } from '../errors/probe-error.ts';
import { TlsFileError } from '../errors/tls-file-error.ts';
import type { FtpCheck } from '../ftp.ts';
import { classifyNetworkError, timeoutError } from '../network-error.ts';
import { PhaseClock } from '../phase-clock.ts';
import type { ProbeContext } from '../probe.ts';
import { addPeer, formatTarget, lookupHost, unbracket } from '../remote-endpoint.ts';
import { DownloadDigest, evaluateDownload } from './download-digest.ts';

/** A listing longer than this is not something to monitor; basic-ftp's own cap is 40 MiB. */
const MAX_LISTING_BYTES = 8 * 1024 * 1024;
/** Names of a listing kept in the details and shown in a message. */
const NAMES_KEPT = 50;
const NAMES_SHOWN = 10;
const TEXT_LIMIT = 300;

/** Which request the server was answering, to name a refusal and pick its class. */
type Step = 'banner' | 'auth-tls' | 'login' | 'setup' | 'list' | 'retrieve';

/** One run of an ftp check over basic-ftp: phases, peers (control and every data connection), findings. */
export class FtpSession {
  private readonly clock = new PhaseClock();
  private readonly peers: Peer[] = [];
  private readonly assertions: AssertionResult[] = [];
  private readonly details: Record<string, unknown>;
  private readonly port: number;
  private target: string;
  private controlIp: string | undefined;
  /** The latest passive data connection, so a failure on it names it rather than the control port. */
  private dataPeer: Peer | undefined;
  private step: Step = 'banner';
  /** What was running, for messages: "login as demo", "LIST /pub". */
  private pending = 'the banner';
  private readonly settings: FtpCheck['ftp'];
  /** Login name: `auth.username`, else anonymous. */
  private readonly username: string;
  /** The server's certificate once TLS is up: its expiry is judged when the session is done. */
  private certificate: CertificateFacts | undefined;
  private degraded = false;

  constructor(
    private readonly check: FtpCheck,
    private readonly context: ProbeContext,
  ) {
    this.settings = check.ftp;
    this.username = check.auth?.username ?? 'anonymous';
    this.port = this.settings.port ?? (this.settings.secure === 'implicit' ? 990 : 21);
    this.target = `${this.settings.host}:${this.port}`;
    this.details = {
      host: this.settings.host,
      port: this.port,
      secure: this.settings.secure,
      username: this.username,
    };
  }

  async run(): Promise<ProbeOutcome> {
    let tlsOptions: ConnectionOptions = {};
    try {
      if (this.settings.secure)
        tlsOptions = (await tlsConnection(this.check.tls, this.settings.host, this.context)).options;
    } catch (error) {
      if (!(error instanceof TlsFileError)) throw error;
      return tlsFileErrorOutcome(error, this.details);
    }
    // Resolved before connecting: a missing secret is a config error, not a failed login.
    const password = this.check.auth?.password
      ? this.context.secrets.interpolate(this.check.auth.password)
      : undefined;
    // No timeout of basic-ftp's own: the caller owns the deadline and aborts the signal.
    const client = new Client(0, { maxListingBytes: MAX_LISTING_BYTES });
    this.watchSockets(client);
    const onAbort = () => client.close();
    this.context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.converse(client, tlsOptions, password);
      return {
        status: this.degraded ? 'degraded' : 'pass',
        phases: this.clock.finish(),
        peers: this.peers,
        assertions: this.assertions,
        details: this.details,
      };
    } catch (error) {
      const runError = this.describe(error); // before finish(), which ends the running phase
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
      // Sends QUIT and destroys the control and any data socket at once.
      client.close();
    }
  }

  private async converse(
    client: Client,
    tlsOptions: ConnectionOptions,
    password: string | undefined,
  ): Promise<void> {
    const { settings, username } = this;
    if (isIP(unbracket(settings.host)) === 0) this.clock.enter('dns');
    const ip = await lookupHost(settings.host, this.context.signal);
    this.controlIp = ip;
    this.target = formatTarget(ip, this.port);
    addPeer(this.peers, ip, this.port);

    this.clock.enter('connect');
    const implicit = settings.secure === 'implicit';
    // The connection goes to the address looked up; `servername` keeps the name check.
    const secureOptions: ConnectionOptions = { ...tlsOptions, host: ip };
    const welcome = implicit
      ? client.connectImplicitTLS(ip, this.port, secureOptions)
      : client.connect(ip, this.port);
    const control = client.ftp.socket;
    control.once('connect', () => this.clock.enter(implicit ? 'tls' : 'banner'));
    if (implicit)
      control.once('secureConnect', () => {
        this.details.tlsSession = { via: 'implicit', ...summarizeTls(control as TLSSocket) };
        this.certificate = observeTlsSession(control as TLSSocket).facts.certificate;
        this.clock.enter('banner');
      });
    if (this.context.signal.aborted) client.close();
    this.details.banner = oneLine((await welcome).message);

    if (settings.secure === 'explicit') {
      this.clock.enter('tls');
      this.begin('auth-tls', 'AUTH TLS');
      await client.useTLS(secureOptions);
      this.details.tlsSession = { via: 'explicit', ...summarizeTls(client.ftp.socket as TLSSocket) };
      this.certificate = observeTlsSession(client.ftp.socket as TLSSocket).facts.certificate;
    }

    this.clock.enter('login');
    this.begin('login', `login as ${username}`);
    const loggedIn = await client.login(username, password);
    this.assertions.push({
      name: `login as ${username}`,
      ok: true,
      expected: '230',
      actual: oneLine(loggedIn.message),
    });
    this.begin('setup', 'session setup (FEAT, TYPE I)');
    await client.useDefaultSettings();

    if (settings.list) await this.list(client, settings.list);
    if (settings.retrieve) await this.retrieve(client, settings.retrieve);
    this.judgeCertificate();
  }

  /** The `tls` block's expiry limits, judged as for every kind, once the session has worked. */
  private judgeCertificate(): void {
    if (!this.certificate) return;
    const expiry = judgeExpiry(this.certificate, this.check.tls ?? DEFAULT_TLS_SETTINGS);
    this.assertions.push(...expiry.assertions);
    if (expiry.error) throw new ProbeError(expiry.error);
    this.degraded = expiry.degraded;
  }

  private async list(client: Client, list: NonNullable<FtpCheck['ftp']['list']>): Promise<void> {
    this.clock.enter('list');
    this.begin('list', `LIST ${list.path}`);
    const entries = await client.list(list.path);
    const names = entries.map((entry) => entry.name);
    this.details.listing = { path: list.path, entries: entries.length, names: names.slice(0, NAMES_KEPT) };
    for (const name of list.expect) {
      const ok = names.includes(name);
      this.assertions.push({
        name: `LIST ${list.path} has ${name}`,
        ok,
        expected: name,
        actual: ok ? name : undefined,
      });
      if (!ok) {
        const shown = names.slice(0, NAMES_SHOWN).join(', ') + (names.length > NAMES_SHOWN ? ', …' : '');
        throw ProbeError.of(
          'ASSERTION',
          `LIST ${list.path}: expected ${name}, got ${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}${shown ? `: ${shown}` : ''}`,
          'list',
        );
      }
    }
  }

  private async retrieve(client: Client, retrieve: NonNullable<FtpCheck['ftp']['retrieve']>): Promise<void> {
    this.clock.enter('retrieve');
    this.begin('retrieve', `RETR ${retrieve.path}`);
    const digest = new DownloadDigest();
    await client.downloadTo(digest, retrieve.path);
    this.details.download = { path: retrieve.path, bytes: digest.bytes, sha256: digest.sha256() };
    const { assertions, failure } = evaluateDownload(retrieve, digest);
    this.assertions.push(...assertions);
    if (failure) throw ProbeError.of('ASSERTION', failure, 'retrieve');
  }

  private begin(step: Step, pending: string): void {
    this.step = step;
    this.pending = pending;
  }

  /**
   * Records every socket basic-ftp opens: the control connection and each passive data
   * connection. `connectionAttempt` (Node ≥ 20.12) names the address before the SYN, so a
   * data connection that never opens is still listed for the packet capture.
   */
  private watchSockets(client: Client): void {
    const ftp = client.ftp;
    const createSocket = ftp._newSocket.bind(ftp);
    ftp._newSocket = (): Socket => {
      const socket = createSocket();
      const note = (ip: string | undefined, port: number | undefined) => {
        if (!ip || !port) return;
        addPeer(this.peers, ip, port);
        if (port !== this.port || ip !== this.controlIp) this.dataPeer = { ip, port };
      };
      socket.on('connectionAttempt', (ip: string, port: number) => note(ip, port));
      socket.once('connect', () => note(socket.remoteAddress, socket.remotePort));
      return socket;
    };
  }

  private describe(error: unknown): CodedRunError {
    const phase = this.clock.current;
    if (this.context.signal.aborted)
      return timeoutError(
        phase,
        this.target,
        this.context.timeoutMs,
        phase === 'banner'
          ? { kind: 'first', what: 'FTP banner' }
          : { kind: 'task', what: `FTP ${this.pending}` },
      );
    if (error instanceof ProbeError) return error.runError;
    if (error instanceof FTPError) return this.describeRefusal(error, phase);
    const err = error as NodeJS.ErrnoException;
    const message = String(err?.message ?? error);
    const onDataConnection = /data (socket|connection)/i.test(message) && this.dataPeer !== undefined;
    const target =
      onDataConnection && this.dataPeer ? formatTarget(this.dataPeer.ip, this.dataPeer.port) : this.target;
    const suffix = onDataConnection ? ` (passive data connection for ${this.pending})` : '';
    if (/Server sent FIN packet unexpectedly|Server closed connection unexpectedly/.test(message))
      return errorOf('CONNECTION_CLOSED', `${target} closed the connection during ${this.pending}`, phase);
    // basic-ftp wraps a failed first data connection in a plain Error ("None of the
    // available transfer strategies work…"), so the errno is read back from the text.
    const code = err?.code ?? /\b(E[A-Z]{4,}|ERR_[A-Z_]+|CERT_[A-Z_]+)\b/.exec(message)?.[1];
    const runError = classifyNetworkError({ ...err, message, code }, phase, target);
    if (runError.code === 'NETWORK_ERROR')
      return errorOf('PROTOCOL', `FTP ${this.pending} on ${target} failed: ${oneLine(message)}`, phase);
    return { ...runError, message: runError.message + suffix };
  }

  private describeRefusal(error: FTPError, phase: string | undefined): CodedRunError {
    const text = oneLine(error.message);
    switch (this.step) {
      case 'banner':
        return errorOf('PROTOCOL', `${this.target} greeted with ${text}, expected 220`, phase);
      case 'auth-tls':
        return errorOf('STARTTLS_REFUSED', `AUTH TLS rejected by ${this.target}: ${text}`, phase);
      case 'login':
        this.assertions.push({ name: this.pending, ok: false, expected: '230', actual: text });
        // 530 to USER or PASS is the login refused; anything else (421 busy, 500) is not about the credentials.
        return errorOf(
          error.code === 530 ? 'AUTH_REJECTED' : 'REPLY_REJECTED',
          `FTP ${this.pending} rejected: ${text}`,
          phase,
        );
      case 'setup':
        return errorOf('PROTOCOL', `FTP ${this.pending} rejected by ${this.target}: ${text}`, phase);
      default:
        this.assertions.push({
          name: this.pending,
          ok: false,
          expected: 'transfer complete (226)',
          actual: text,
        });
        return errorOf('REPLY_REJECTED', `${this.pending} failed: ${text}`, phase);
    }
  }
}

/** A reply or error text on one line, without control characters, at most 300 characters. */
function oneLine(text: string): string {
  const line = text
    .replace(/\r?\n\d{3}[ -]/g, ' ') // continuation lines of a multi-line reply repeat the code
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
    .replace(/[\x00-\x1f\x7f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > TEXT_LIMIT ? `${line.slice(0, TEXT_LIMIT)}…` : line;
}
