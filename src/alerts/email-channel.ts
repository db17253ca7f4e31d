import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { LoadedConfig } from '../config/load-config.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import type { AlertChannel, ChannelReceipt } from './alert-channel.ts';
import type { AlertEvent, AlertItem } from './alert-event.ts';
import { DEFAULT_ALERT_SUBJECT, renderAlertMail } from './alert-message.ts';
import { describeSmtpFailure, isPermanentSmtpFailure } from './smtp-failure.ts';

export type AlertingSettings = NonNullable<LoadedConfig['settings']['alerting']>;

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
  /** Checks and journeys, for each one's `alertSubject`. */
  items?: AlertItem[];
  /** Recipients instead of `alerting.to` (`pathwatch alerts test --to`). */
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
  readonly name = 'email';
  readonly server: string;
  private readonly transport: Transporter;
  private readonly subjects: Map<string, string>;

  constructor(private readonly options: EmailChannelOptions) {
    const { smtp } = options.alerting;
    this.server = `${smtp.host}:${smtp.port}`;
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 2,
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
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
    this.subjects = new Map(
      (options.items ?? []).flatMap((item) => (item.alertSubject ? [[item.id, item.alertSubject]] : [])),
    );
  }

  async send(event: AlertEvent): Promise<ChannelReceipt> {
    const { alerting } = this.options;
    const mail = renderAlertMail(
      event,
      this.subjects.get(event.checkId) ?? alerting.subject ?? DEFAULT_ALERT_SUBJECT,
    );
    const messageId = messageIdOf(event.key, alerting.from);
    try {
      const info = await this.transport.sendMail({
        from: alerting.from,
        to: this.options.to ?? alerting.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId,
        date: new Date(event.at),
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
