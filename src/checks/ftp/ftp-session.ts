import type { Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { Client, FTPError, type FTPResponse } from 'basic-ftp';
import { type CodedRunError, errorOf } from '../../results/error-codes.ts';
import type { Peer, ProbeOutcome } from '../../results/run-result.ts';
import { dialTcp } from '../dial/dial-tcp.ts';
import { DialogueRun } from '../dial/dialogue-run.ts';
import { ProbeError } from '../errors/probe-error.ts';
import type { FtpCheck } from '../ftp.ts';
import { classifyNetworkError } from '../network-error.ts';
import type { ProbeContext } from '../probe.ts';
import { addPeer, formatTarget } from '../remote-endpoint.ts';
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
export class FtpSession extends DialogueRun {
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

  constructor(
    private readonly check: FtpCheck,
    context: ProbeContext,
  ) {
    const { host, secure } = check.ftp;
    const username = check.auth?.username ?? 'anonymous';
    const port = check.ftp.port ?? (secure === 'implicit' ? 990 : 21);
    super(context, { host, port, secure, username }, check.tls);
    this.settings = check.ftp;
    this.username = username;
    this.port = port;
    this.target = `${host}:${port}`;
  }

  async run(): Promise<ProbeOutcome> {
    const prepared = await this.prepare(this.settings.host, this.settings.secure !== false, this.check.auth);
    if (prepared.outcome) return prepared.outcome;
    // No timeout of basic-ftp's own: the caller owns the deadline and aborts the signal.
    const client = new Client(0, { maxListingBytes: MAX_LISTING_BYTES });
    this.watchSockets(client);
    const onAbort = () => client.close();
    this.context.signal.addEventListener('abort', onAbort, { once: true });
    try {
      await this.converse(client, prepared.tls?.options ?? {}, prepared.password);
      return this.outcome();
    } catch (error) {
      return this.outcome(this.describe(error)); // described before outcome() ends the running phase
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
    const { settings, username, context } = this;
    // The one dialer for the control connection: every address in turn, so a dead IPv6
    // address does not fail the check. Data connections go where the server says (PASV).
    const dialed = await dialTcp(this.dialOptions(settings.host, this.port));
    const ip = dialed.remote.ip;
    this.controlIp = ip;
    this.target = dialed.target;

    const implicit = settings.secure === 'implicit';
    // The connection goes to the address that answered; `servername` keeps the name check.
    const secureOptions: ConnectionOptions = { ...tlsOptions, host: ip };
    let control: Socket = dialed.socket;
    if (implicit) {
      this.clock.enter('tls');
      const secure = tlsConnect({ ...secureOptions, socket: dialed.socket });
      secure.once('secureConnect', () => {
        this.noteTlsSession(secure, 'implicit');
        this.clock.enter('banner');
      });
      control = secure;
    } else {
      this.clock.enter('banner');
    }
    client.ftp.socket = control;
    // Data connections resume this TLS session under the same identity (see basic-ftp's connectImplicitTLS).
    if (implicit) client.ftp.tlsOptions = secureOptions;
    const welcome = welcomeOf(client);
    if (context.signal.aborted) client.close();
    this.details.banner = oneLine((await welcome).message);

    if (settings.secure === 'explicit') {
      this.clock.enter('tls');
      this.begin('auth-tls', 'AUTH TLS');
      await client.useTLS(secureOptions);
      this.noteTlsSession(client.ftp.socket as TLSSocket, 'explicit');
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
    // Dial failures (dns, connect timeouts included) come worded by the dialer, naming the address.
    if (error instanceof ProbeError) return error.runError;
    if (this.context.signal.aborted)
      return this.timedOut(this.target, 'FTP banner', { kind: 'task', what: `FTP ${this.pending}` });
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

/**
 * The server's greeting on a control connection already open: what basic-ftp's `connect`
 * waits for after dialing itself (a 2xx, anything else is an FTPError).
 */
function welcomeOf(client: Client): Promise<FTPResponse> {
  return client.ftp.handle(undefined, (response, task) => {
    if (response instanceof Error) task.reject(response);
    else if (response.code >= 200 && response.code < 300) task.resolve(response);
    else task.reject(new FTPError(response));
  });
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
