import type { TLSSocket } from 'node:tls';
import type { SocketDialogue, TlsUpgradeOptions } from '../socket-dialogue.ts';
import type { SmtpReply } from './smtp-reply.ts';
import { SmtpSyntaxError } from './smtp-syntax-error.ts';

/** Lines in one multi-line reply; EHLO lists a few dozen at most. */
const REPLY_LINE_LIMIT = 1000;

/**
 * What is SMTP about one connection: replies with their codes, multi-line `250-…` /
 * `250 …` replies put together, a reply nobody asked for refused. The line framing, the
 * STARTTLS upgrade (and its guard against plain text injected before the handshake),
 * timeouts and closes are SocketDialogue's, as for every line protocol.
 */
export class SmtpConnection {
  /** Set once a read failed: the conversation is out of step, so no polite QUIT either. */
  private broken = false;

  constructor(private readonly dialogue: SocketDialogue) {}

  /** The next reply; `waitingFor` names it for messages ("the reply to EHLO"). */
  async read(waitingFor: string): Promise<SmtpReply> {
    try {
      return await this.readReply(waitingFor);
    } catch (error) {
      this.broken = true;
      throw error;
    }
  }

  /** Sends raw text as is (the DATA body, already CRLF-terminated and dot-stuffed). */
  writeRaw(text: string): void {
    this.dialogue.send(text);
  }

  /** Sends a command (CRLF added) and returns its reply. */
  command(line: string, waitingFor: string): Promise<SmtpReply> {
    if (this.dialogue.unreadBytes > 0) {
      this.broken = true;
      throw new SmtpSyntaxError('sent a reply nobody asked for');
    }
    this.dialogue.send(`${line}\r\n`);
    return this.read(waitingFor);
  }

  /**
   * The TLS handshake over the open connection (implicit TLS, or after `220` to STARTTLS),
   * verifying the certificate as the `tls` block says, in the handshake, as a mail client does.
   */
  startTls(options: TlsUpgradeOptions): Promise<TLSSocket> {
    return this.dialogue.startTls(options, true);
  }

  /**
   * Sends QUIT after a failure the server answered in order, and waits briefly for its
   * 221 so the server logs a clean session; never fails.
   */
  async quitQuietly(limitMs: number): Promise<void> {
    if (this.broken) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.command('QUIT', 'the reply to QUIT'),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, limitMs);
        }),
      ]);
    } catch {
      // The run has failed already; a server that will not say goodbye adds nothing to it.
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.dialogue.close();
  }

  private async readReply(waitingFor: string): Promise<SmtpReply> {
    let reply: SmtpReply | undefined;
    for (;;) {
      const line = await this.dialogue.readLine(waitingFor);
      const match = /^(\d{3})(?:([ -])(.*))?$/.exec(line);
      if (!match) {
        const shown = line.length > 80 ? `${line.slice(0, 80)}…` : line;
        throw new SmtpSyntaxError(`sent a line that is not an SMTP reply: ${JSON.stringify(shown)}`);
      }
      const code = Number(match[1]);
      reply ??= { code, lines: [] };
      if (reply.code !== code)
        throw new SmtpSyntaxError(
          `changed the code inside one multi-line reply (${reply.code} then ${code})`,
        );
      reply.lines.push(match[3] ?? '');
      if (reply.lines.length > REPLY_LINE_LIMIT)
        throw new SmtpSyntaxError(`sent a reply of more than ${REPLY_LINE_LIMIT} lines`);
      if (match[2] !== '-') return reply;
    }
  }
}
