import type { Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import { SmtpClosedError } from './smtp-closed-error.ts';
import type { SmtpReply } from './smtp-reply.ts';
import { SmtpSyntaxError } from './smtp-syntax-error.ts';

/** A reply line longer than this is not SMTP (RFC 5321 allows 512): stop buffering. */
const LINE_LIMIT = 64 * 1024;
/** Lines in one multi-line reply; EHLO lists a few dozen at most. */
const REPLY_LINE_LIMIT = 1000;

interface Waiter {
  resolve(reply: SmtpReply): void;
  reject(error: Error): void;
}

/**
 * The client side of one SMTP connection: writes commands, frames replies (multi-line
 * `250-…` / `250 …`), and upgrades itself to TLS for STARTTLS. The first failure (socket
 * error, close, framing error, abort) is sticky: every later read rejects with it.
 */
export class SmtpConnection {
  private socket: Socket;
  private readonly sockets: Socket[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private partial: SmtpReply | undefined;
  private readonly ready: SmtpReply[] = [];
  private waiter: Waiter | undefined;
  private failure: Error | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    this.listen(socket);
  }

  /** True once the connection can no longer be used. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** The next reply, in order; replies the server sent early are kept. */
  read(): Promise<SmtpReply> {
    const reply = this.ready.shift();
    if (reply) return Promise.resolve(reply);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Sends one line (CRLF added). */
  write(line: string): void {
    if (!this.failure) this.socket.write(`${line}\r\n`);
  }

  /** Sends raw text as is (the DATA body, already CRLF-terminated and dot-stuffed). */
  writeRaw(text: string): void {
    if (!this.failure) this.socket.write(text);
  }

  /** Sends a command and returns its reply. */
  async command(line: string): Promise<SmtpReply> {
    const stray = this.ready.shift();
    if (stray) throw new SmtpSyntaxError(`sent a reply nobody asked for (${stray.code})`);
    this.write(line);
    return this.read();
  }

  /**
   * Runs the TLS handshake over the open connection (after `220` to STARTTLS) and carries
   * on over the TLS socket.
   */
  startTls(options: ConnectionOptions): Promise<TLSSocket> {
    if (this.failure) return Promise.reject(this.failure);
    // Plain text already buffered after the 220 would be read as if it came over TLS:
    // the STARTTLS command-injection flaw (CVE-2011-0411), so it is a failure, not data.
    if (this.buffer.length > 0 || this.ready.length > 0 || this.partial)
      return Promise.reject(
        new SmtpSyntaxError('sent more data after its STARTTLS reply, before the TLS handshake'),
      );
    const plain = this.socket;
    this.unlisten(plain);
    plain.on('error', () => {}); // the TLS socket reports the same failure
    const secure = tlsConnect({ ...options, socket: plain });
    this.socket = secure;
    this.listen(secure);
    return new Promise((resolve, reject) => {
      this.waiter = {
        resolve: () => {},
        reject,
      };
      secure.once('secureConnect', () => {
        this.waiter = undefined;
        resolve(secure);
      });
    });
  }

  /** Stops everything at once: used when the caller's deadline runs out. */
  abort(): void {
    this.fail(new Error('aborted'));
    this.destroy();
  }

  /**
   * Sends QUIT after a failure the server answered in order, and waits briefly for its
   * 221 so the server logs a clean session; never fails.
   */
  async quitQuietly(limitMs: number): Promise<void> {
    if (this.failure) return;
    this.ready.length = 0;
    this.write('QUIT');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.read().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, limitMs);
      }),
    ]);
    clearTimeout(timer);
  }

  destroy(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  private listen(socket: Socket): void {
    this.sockets.push(socket);
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
  }

  private unlisten(socket: Socket): void {
    socket.off('data', this.onData);
    socket.off('error', this.onError);
    socket.off('end', this.onEnd);
    socket.off('close', this.onEnd);
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.failure) return;
    this.buffer = this.buffer.length > 0 ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (let newline = this.buffer.indexOf(0x0a); newline !== -1; newline = this.buffer.indexOf(0x0a)) {
      const line = this.buffer.subarray(0, newline).toString('utf8').replace(/\r$/, '');
      this.buffer = this.buffer.subarray(newline + 1);
      this.onLine(line);
      if (this.failure) return;
    }
    if (this.buffer.length > LINE_LIMIT)
      this.fail(new SmtpSyntaxError(`sent a reply line longer than ${LINE_LIMIT} bytes`));
  };

  private readonly onError = (error: Error): void => this.fail(error);

  private readonly onEnd = (): void => this.fail(new SmtpClosedError('closed the connection'));

  private onLine(line: string): void {
    const match = /^(\d{3})(?:([ -])(.*))?$/.exec(line);
    if (!match) {
      const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
      this.fail(new SmtpSyntaxError(`sent a line that is not an SMTP reply: ${JSON.stringify(shown)}`));
      return;
    }
    const code = Number(match[1]);
    const reply = this.partial ?? { code, lines: [] };
    if (reply.code !== code) {
      this.fail(
        new SmtpSyntaxError(`changed the code inside one multi-line reply (${reply.code} then ${code})`),
      );
      return;
    }
    reply.lines.push(match[3] ?? '');
    if (reply.lines.length > REPLY_LINE_LIMIT) {
      this.fail(new SmtpSyntaxError(`sent a reply of more than ${REPLY_LINE_LIMIT} lines`));
      return;
    }
    if (match[2] === '-') {
      this.partial = reply;
      return;
    }
    this.partial = undefined;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve(reply);
    } else if (this.ready.push(reply) > REPLY_LINE_LIMIT) {
      this.fail(new SmtpSyntaxError(`sent more than ${REPLY_LINE_LIMIT} replies nobody asked for`));
    }
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }
}
