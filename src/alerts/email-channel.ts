import { createHash } from 'node:crypto';
import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import { type AlertingSettings, DEFAULT_LIST } from '../config/alerting-schema.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import type { AlertChannel, ChannelMessage, ChannelReceipt } from './alert-channel.ts';
import type { AlertContext } from './alert-context.ts';
import type { AlertEvent } from './alert-event.ts';
import { renderAlertMail } from './alert-message.ts';
import { describeSmtpFailure, isPermanentSmtpFailure } from './smtp-failure.ts';

/** An SMTP failure, in one line, with whether a retry can help. */
export class MailDeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

export interface EmailChannelOptions {
  alerting: AlertingSettings;
  /** Resolves `alerting.smtp.password` (a secret reference); the value is masked in every log line. */
  secrets: SecretResolver;
  /** Recipients instead of the event's list (`pathwatch alerts test --to`). */
  to?: string[];
}

/**
 * The same alert always carries the same Message-ID, made from its idempotency key: the
 * one duplicate that can still happen (see the alert worker) is recognisable, and many
 * clients and servers drop it. In the sender's domain, as RFC 5322 suggests.
 */
export function messageIdOf(key: string, from: string): string {
  const domain = from.slice(from.lastIndexOf('@') + 1) || 'pathwatch.invalid';
  return `<pathwatch-alert.${createHash('sha256').update(key).digest('hex').slice(0, 32)}@${domain}>`;
}

/** Alerts as mail, through one pooled SMTP transport from `alerting.smtp`. */
export class EmailChannel implements AlertChannel {
  readonly name = 'email' as const;
  readonly server: string;
  private readonly transport: Transporter;

  constructor(private readonly options: EmailChannelOptions) {
    const { smtp } = options.alerting;
    if (!smtp) throw new Error('alerting.smtp: required to send mail');
    this.server = `${smtp.host}:${smtp.port}`;
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 2,
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: smtp.requireTls ?? (smtp.user !== undefined && !smtp.secure),
      ...(smtp.user
        ? {
            auth: {
              user: smtp.user,
              // Resolved here, by reference: the resolver records the value, so every log line masks it.
              pass: smtp.password ? options.secrets.interpolate(smtp.password) : '',
            },
          }
        : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
      logger: false,
    });
  }

  /** The recipients of the event's list (`default`: `alerting.to`). */
  private recipients(event: AlertEvent): string[] | undefined {
    const { alerting } = this.options;
    if (this.options.to) return this.options.to;
    if (event.list === DEFAULT_LIST && alerting.to) return alerting.to;
    return alerting.lists[event.list]?.to;
  }

  async send(event: AlertEvent, context: AlertContext): Promise<ChannelReceipt> {
    const mail = renderAlertMail(event, context);
    return this.sendMail(event, {
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      // The screenshot and the like are shown in the body (CID), not offered as files.
      attachments: mail.attachments.map((attachment) => ({
        ...attachment,
        contentDisposition: 'inline' as const,
      })),
      date: new Date(event.at),
    });
  }

  async deliver(event: AlertEvent, message: ChannelMessage): Promise<ChannelReceipt> {
    return this.sendMail(event, message.mail);
  }

  /** One mail to the event's list, its Message-ID made from the event's key. */
  private async sendMail(
    event: AlertEvent,
    mail: Omit<SendMailOptions, 'from' | 'to'>,
  ): Promise<ChannelReceipt> {
    const to = this.recipients(event);
    if (!to || to.length === 0) {
      throw new MailDeliveryError(`recipient list "${event.list}" has no mail recipients`, true);
    }
    const from = this.options.alerting.from ?? '';
    const messageId = messageIdOf(event.key, from);
    try {
      const info = await this.transport.sendMail({
        ...mail,
        from,
        to,
        messageId,
        headers: { 'X-Pathwatch-Alert': event.key },
      });
      return { accepted: (info.accepted ?? []).length > 0, response: String(info.response ?? ''), messageId };
    } catch (error) {
      throw new MailDeliveryError(describeSmtpFailure(error, this.server), isPermanentSmtpFailure(error));
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}
