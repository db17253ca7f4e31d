import type net from 'node:net';
import { isIP } from 'node:net';
import tls, { type ConnectionOptions, type TLSSocket } from 'node:tls';
import { type CodedRunError, errorOf } from '../results/error-codes.ts';
import type { Peer } from '../results/run-result.ts';
import { type DialOptions, dialTcp } from './dial/dial-tcp.ts';
import { ProbeError } from './errors/probe-error.ts';
import { classifyNetworkError, timeoutError } from './network-error.ts';

/**
 * Longest line kept while waiting for its end: a server streaming bytes without a newline is
 * a protocol error to report, not a buffer to grow until the deadline.
 */
const MAX_LINE_BYTES = 64 * 1024;

/** Quoted text of a received line in messages is cut to this many characters. */
const QUOTE_LIMIT = 120;

/** After a clean finish, how long the closing handshake (TLS close_notify, FIN) may take before the socket is destroyed anyway. */
const CLOSE_GRACE_MS = 1000;

/** How to dial (see dialTcp) plus what the conversation needs: the clock for its phases, the signal. */
export type DialogueOptions = DialOptions;

/**
 * From `tlsConnection()` (the check's `tls` block). `rejectUnauthorized` and
 * `checkServerIdentity` count only for an upgrade that verifies in the handshake (see
 * `startTls`).
 */
export type TlsUpgradeOptions = Pick<
  ConnectionOptions,
  | 'servername'
  | 'ca'
  | 'cert'
  | 'key'
  | 'minVersion'
  | 'ciphers'
  /** Compiled once from the above (tlsConnection): when present Node uses it and ignores them. */
  | 'secureContext'
  | 'rejectUnauthorized'
  | 'checkServerIdentity'
  /** The identity a verifying upgrade checks the certificate against when `servername` is an IP. */
  | 'host'
>;

interface Pending {
  reject: (failure: ProbeError) => void;
  /** What a line read is waiting for ("the banner"); absent for the TLS handshake. */
  waitingFor?: string;
  resolveLine?: (line: string) => void;
}

function noop(): void {}

/** A received line for a message: one line, cut, quoted. */
export function quoteLine(line: string): string {
  const flat = line.replace(/[\r\n]+/g, ' ');
  return JSON.stringify(flat.length > QUOTE_LIMIT ? `${flat.slice(0, QUOTE_LIMIT - 3)}...` : flat);
}

/**
 * One TCP conversation with a server: dns (names only) → connect → optional TLS (implicit, or
 * STARTTLS after some lines) → lines read and sent in turn. Line-based protocols (banners,
 * SMTP, POP3, IMAP, FTP control, Redis inline) build on this.
 *
 * Every failure is a ProbeError whose RunError names the phase and what was awaited;
 * `open()` enters the dns/connect phases and `startTls()` the tls phase on the clock, the
 * caller enters its own phases (banner, dialogue, …) before reading. The socket is destroyed
 * on abort and on failure; callers call `close()` when done, in a `finally`.
 */
export class SocketDialogue {
  private socket: net.Socket;
  /** Every socket layered on this connection (raw TCP, then TLS), destroyed together. */
  private readonly layers: net.Socket[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private received = 0;
  private ended = false;
  private socketError: Error | undefined;
  private aborted = false;
  private closed = false;
  private pending: Pending | undefined;

  private constructor(
    socket: net.Socket,
    /** `ip:port` actually connected to, for messages. */
    readonly target: string,
    /** The remote end actually connected to. */
    readonly remote: Peer,
    private readonly options: DialogueOptions,
  ) {
    this.socket = socket;
    this.layers.push(socket);
    this.listen(socket);
    options.signal.addEventListener('abort', this.onAbort, { once: true });
    if (options.signal.aborted) this.onAbort();
  }

  /** Dials (see dialTcp: dns, connect, every address in turn) and holds the conversation over that socket. */
  static async open(options: DialogueOptions): Promise<SocketDialogue> {
    const dialed = await dialTcp(options);
    return new SocketDialogue(dialed.socket, dialed.target, dialed.remote, options);
  }

  /**
   * Wraps the connection in TLS (phase tls): right after connect for implicit TLS, or after
   * a STARTTLS exchange. Unless `verifyInHandshake` (smtp: a refused certificate fails the
   * handshake, as in a mail client), the handshake never rejects a certificate: `authorized` and `authorizationError` on the returned socket say what a
   * verifying client would think, so the caller can report an expired or mismatched
   * certificate with its details. Host-name identity is then NOT checked here (use
   * certificate-checks.ts), so `authorized` means the chain.
   */
  startTls(upgrade: TlsUpgradeOptions = {}, verifyInHandshake = false): Promise<TLSSocket> {
    this.assertUsable();
    this.options.clock.enter('tls');
    if (this.buffer.length > 0) {
      // Bytes sent before the handshake would be read as if they came over TLS: the
      // STARTTLS command-injection pattern. A server must not do it; say so.
      return Promise.reject(
        this.fail(
          errorOf(
            'PROTOCOL',
            `server ${this.target} sent ${this.buffer.length} unencrypted bytes before the TLS handshake`,
            'tls',
          ),
        ),
      );
    }
    const raw = this.socket;
    this.unlisten(raw);
    raw.on('error', noop);
    const servername = upgrade.servername?.replace(/^\[|\]$/g, '');
    const secure = tls.connect({
      socket: raw,
      servername: servername && !isIP(servername) ? servername : undefined,
      host: upgrade.host,
      ca: upgrade.ca,
      cert: upgrade.cert,
      key: upgrade.key,
      minVersion: upgrade.minVersion,
      ciphers: upgrade.ciphers,
      secureContext: upgrade.secureContext,
      rejectUnauthorized: verifyInHandshake ? (upgrade.rejectUnauthorized ?? true) : false,
      // A verifying upgrade keeps Node's identity check (an explicit undefined would remove it).
      checkServerIdentity: verifyInHandshake
        ? (upgrade.checkServerIdentity ?? tls.checkServerIdentity)
        : () => undefined,
    });
    this.socket = secure;
    this.layers.push(secure);
    return new Promise<TLSSocket>((resolve, reject) => {
      const settle = () => {
        secure.off('secureConnect', onSecure);
        secure.off('error', onError);
        this.pending = undefined;
      };
      const onSecure = () => {
        settle();
        this.listen(secure);
        resolve(secure);
      };
      const onError = (error: Error) => {
        settle();
        reject(this.fail(classifyNetworkError(error, 'tls', this.target)));
      };
      secure.on('secureConnect', onSecure);
      secure.on('error', onError);
      this.pending = { reject };
    });
  }

  /**
   * The next line (LF or CRLF terminated, without its terminator, decoded as UTF-8).
   * `waitingFor` names what the line is, for messages: "the banner", "the reply to step 2".
   * A last line the server ended without a newline before closing is returned as a line.
   */
  readLine(waitingFor: string): Promise<string> {
    this.assertUsable(waitingFor);
    if (this.pending) throw new Error('SocketDialogue.readLine: another read is already pending');
    return new Promise<string>((resolve, reject) => {
      this.pending = { reject, waitingFor, resolveLine: resolve };
      this.deliver();
    });
  }

  /** Writes `text` as is (the caller adds line endings). Errors surface at the next read. */
  send(text: string): void {
    this.assertUsable();
    if (this.socketError) throw this.fail(this.errorFor(undefined));
    this.socket.write(text);
  }

  /** Bytes received and not yet read as a line: a reply nobody asked for, when a command is due. */
  get unreadBytes(): number {
    return this.buffer.length;
  }

  /** Bytes received so far on this connection (after TLS: decrypted bytes). */
  get bytesReceived(): number {
    return this.received;
  }

  /**
   * Ends the conversation politely (TLS close_notify, FIN) and destroys the socket once that
   * is written, or after a short grace if the far end does not read. Safe to call twice and
   * after a failure.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.options.signal.removeEventListener('abort', this.onAbort);
    const socket = this.socket;
    for (const layer of this.layers) {
      this.unlisten(layer);
      layer.on('error', noop);
    }
    if (socket.destroyed) {
      this.destroyAll();
      return;
    }
    socket.resume(); // discard anything still arriving instead of buffering it
    const timer = setTimeout(() => this.destroyAll(), CLOSE_GRACE_MS);
    timer.unref();
    socket.end(() => {
      clearTimeout(timer);
      this.destroyAll();
    });
  }

  private readonly onAbort = () => {
    this.aborted = true;
    const pending = this.pending;
    this.pending = undefined;
    this.destroyAll();
    if (pending) pending.reject(new ProbeError(this.abortError(pending.waitingFor)));
  };

  private readonly onData = (chunk: Buffer) => {
    this.received += chunk.length;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.deliver();
  };

  private readonly onEnd = () => {
    this.ended = true;
    this.deliver();
  };

  private readonly onError = (error: Error) => {
    this.socketError ??= error;
    this.deliver();
  };

  private listen(socket: net.Socket): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
  }

  private unlisten(socket: net.Socket): void {
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('error', this.onError);
  }

  /** Hands a complete line (or a failure) to the pending read, if there is one. */
  private deliver(): void {
    const pending = this.pending;
    if (!pending?.resolveLine) return;
    const newline = this.buffer.indexOf(0x0a);
    if (newline >= 0) {
      const end = newline > 0 && this.buffer[newline - 1] === 0x0d ? newline - 1 : newline;
      const line = this.buffer.subarray(0, end).toString('utf8');
      this.buffer = this.buffer.subarray(newline + 1);
      this.pending = undefined;
      pending.resolveLine(line);
      return;
    }
    if (this.buffer.length > MAX_LINE_BYTES) {
      this.pending = undefined;
      pending.reject(
        this.fail(
          errorOf(
            'PROTOCOL',
            `server ${this.target} sent more than ${MAX_LINE_BYTES} bytes without a line ending while we waited for ${pending.waitingFor}`,
            this.options.clock.current,
          ),
        ),
      );
      return;
    }
    if (this.ended && this.buffer.length > 0) {
      const line = this.buffer.toString('utf8').replace(/\r$/, '');
      this.buffer = Buffer.alloc(0);
      this.pending = undefined;
      pending.resolveLine(line);
      return;
    }
    if (this.socketError || this.ended) {
      this.pending = undefined;
      pending.reject(this.fail(this.errorFor(pending.waitingFor)));
    }
  }

  /** A failure while waiting: a reset, a close, or another socket error. */
  private errorFor(waitingFor: string | undefined): CodedRunError {
    const phase = this.options.clock.current;
    const code = (this.socketError as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ECONNRESET' || code === 'EPIPE') {
      const during = waitingFor ? ` while we waited for ${waitingFor}` : '';
      return errorOf('CONNECTION_RESET', `server ${this.target} reset the connection${during}`, phase);
    }
    if (this.socketError) return classifyNetworkError(this.socketError, phase, this.target);
    // A FIN where a line was due is, for whoever needs that line, the same as a reset: the
    // far end (or a middlebox) gave up on the conversation. Worth a capture, hence "reset".
    return errorOf(
      'CONNECTION_CLOSED',
      `server ${this.target} closed the connection before sending ${waitingFor ?? 'anything more'}`,
      phase,
    );
  }

  private abortError(waitingFor: string | undefined): CodedRunError {
    const phase = this.options.clock.current;
    if (waitingFor === undefined) return timeoutError(phase, this.target, this.options.timeoutMs);
    const heard =
      this.received === 0
        ? '; the server accepted the connection and sent nothing'
        : this.buffer.length > 0
          ? `; received ${quoteLine(this.buffer.toString('utf8'))} without a line ending`
          : '';
    return timeoutError(phase, this.target, this.options.timeoutMs, {
      kind: 'reply',
      what: waitingFor,
      heard,
    });
  }

  /** Records a failure: the connection is of no further use, so it is destroyed. */
  private fail(error: CodedRunError): ProbeError {
    this.destroyAll();
    return new ProbeError(error);
  }

  private assertUsable(waitingFor?: string): void {
    if (this.closed) throw new Error('SocketDialogue used after close()');
    if (this.aborted) throw this.fail(this.abortError(waitingFor));
  }

  private destroyAll(): void {
    for (const layer of this.layers) {
      layer.on('error', noop);
      layer.destroy();
    }
  }
}
