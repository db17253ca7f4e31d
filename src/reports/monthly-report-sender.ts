import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { ChannelReceipt } from '../alerts/alert-channel.ts';
import type { AlertEvent } from '../alerts/alert-event.ts';
import { MailDeliveryError } from '../alerts/email-channel.ts';
import { describeSmtpFailure, isPermanentSmtpFailure } from '../alerts/smtp-failure.ts';
import {
  describeNetworkError,
  isRetryableStatus,
  oneLine,
  WebhookDeliveryError,
  webhookTarget,
} from '../alerts/webhook-failure.ts';
import { signWebhook } from '../alerts/webhook-signature.ts';
import { type AlertingSettings, DEFAULT_LIST } from '../config/alerting-schema.ts';
import type { SecretResolver } from '../config/secret-resolver.ts';
import { PATHWATCH_VERSION } from '../version.ts';
import { computeReport, type Report, type ReportItem, type ReportSources } from './compute-report.ts';
import { monthWindow, type ReportMonth } from './monthly-report-calendar.ts';
import { renderReportMail } from './report-mail.ts';

/** One month's report to one list through one channel: an alert of kind `report`, and its month. */
export interface MonthlyReportJob extends AlertEvent {
  kind: 'report';
  month: ReportMonth;
}

/** `report.<YYYY-MM>.<list>.<channel>`: the job id, the sent mark and the Message-ID's seed. */
export function monthlyReportKey(month: ReportMonth, list: string, channel: AlertEvent['channel']): string {
  return `report.${month}.${list}.${channel}`;
}

export interface MonthlyReportSenderOptions {
  alerting: AlertingSettings;
  secrets: SecretResolver;
  /** The checks and journeys reported, as GET /api/v1/reports lists them. */
  items: ReportItem[];
  sources: ReportSources;
  target: number;
  /** The zone the month is a calendar month in (`reports.mail.timezone`). */
  timezone: string;
  /** @defaultValue Date.now */
  clock?: () => number;
}

/** The JSON a list's webhook receives: the report, as GET /api/v1/reports answers it, and its month. */
export interface ReportWebhookPayload {
  version: 1;
  key: string;
  kind: 'report';
  list: string;
  month: ReportMonth;
  timezone: string;
  summary: string;
  report: Report;
}

/**
 * Computes a month's report (computeReport over the calendar month, as the API does for its
 * windows) and hands it to a list's mail recipients or webhook. Mail goes through its own
 * pooled transport made from `alerting.smtp` as the alert mail's is; webhooks are signed as
 * alert webhooks are (X-Pathwatch-Signature), and never follow a redirect.
 */
export class MonthlyReportSender {
  private transport?: Transporter;
  readonly server?: string;
  private readonly closing = new AbortController();

  constructor(private readonly options: MonthlyReportSenderOptions) {
    const { smtp } = options.alerting;
    if (!smtp) return;
    this.server = `${smtp.host}:${smtp.port}`;
    this.transport = nodemailer.createTransport({
      pool: true,
      maxConnections: 1,
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: smtp.requireTls ?? (smtp.user !== undefined && !smtp.secure),
      ...(smtp.user
        ? {
            // Resolved by reference: the resolver records the value, so every log line masks it.
            auth: { user: smtp.user, pass: smtp.password ? options.secrets.interpolate(smtp.password) : '' },
          }
        : {}),
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
      logger: false,
    });
  }

  /** The month's report: the same computation as GET /api/v1/reports, over the calendar month. */
  compute(month: ReportMonth): Promise<Report> {
    const { sources, items, target, timezone } = this.options;
    return computeReport(sources, {
      items,
      window: monthWindow(month, timezone),
      target,
      now: (this.options.clock ?? Date.now)(),
    });
  }

  async send(job: MonthlyReportJob, report: Report): Promise<ChannelReceipt> {
    const mail = renderReportMail(report, {
      month: job.month,
      language: job.language,
      timezone: this.options.timezone,
    });
    if (job.channel === 'email') return this.sendMail(job, mail);
    return this.post(job, {
      version: 1,
      key: job.key,
      kind: 'report',
      list: job.list,
      month: job.month,
      timezone: this.options.timezone,
      summary: mail.subject,
      report,
    });
  }

  private async sendMail(
    job: MonthlyReportJob,
    mail: ReturnType<typeof renderReportMail>,
  ): Promise<ChannelReceipt> {
    const { alerting } = this.options;
    const to = job.list === DEFAULT_LIST && alerting.to ? alerting.to : alerting.lists[job.list]?.to;
    if (!to || to.length === 0)
      throw new MailDeliveryError(`recipient list "${job.list}" has no mail recipients`, true);
    if (!this.transport) throw new MailDeliveryError('alerting.smtp: required to send mail', true);
    const from = alerting.from ?? '';
    const domain = from.slice(from.lastIndexOf('@') + 1) || 'pathwatch.invalid';
    // The same report always has the same Message-ID: a repeat after a crash is recognisable.
    const messageId = `<pathwatch-report.${createHash('sha256').update(job.key).digest('hex').slice(0, 32)}@${domain}>`;
    try {
      const info = await this.transport.sendMail({
        from,
        to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        attachments: [
          { filename: mail.csv.filename, content: mail.csv.content, contentType: 'text/csv; charset=utf-8' },
        ],
        messageId,
        headers: { 'X-Pathwatch-Alert': job.key },
      });
      return { accepted: (info.accepted ?? []).length > 0, response: String(info.response ?? ''), messageId };
    } catch (error) {
      throw new MailDeliveryError(
        describeSmtpFailure(error, this.server ?? 'the mail server'),
        isPermanentSmtpFailure(error),
      );
    }
  }

  private async post(job: MonthlyReportJob, payload: ReportWebhookPayload): Promise<ChannelReceipt> {
    const { secrets } = this.options;
    const hook = this.options.alerting.lists[job.list]?.webhook;
    if (!hook)
      throw new WebhookDeliveryError(
        `report webhook to list "${job.list}": the list has no webhook (alerting.lists.${job.list}.webhook)`,
        true,
      );
    const url = secrets.interpolate(hook.url);
    const where = `webhook of list "${job.list}" at ${webhookTarget(url)}`;
    const body = Buffer.from(secrets.mask(JSON.stringify(payload)), 'utf8');
    const timestamp = Math.floor(Date.now() / 1000);
    const timeout = AbortSignal.timeout(hook.timeout);
    let answer: Response;
    try {
      answer = await fetch(url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: AbortSignal.any([timeout, this.closing.signal]),
        headers: {
          'content-type': 'application/json',
          'user-agent': `pathwatch/${PATHWATCH_VERSION}`,
          'x-pathwatch-event': 'report',
          'x-pathwatch-delivery': job.key,
          'x-pathwatch-timestamp': String(timestamp),
          'x-pathwatch-signature': signWebhook(secrets.interpolate(hook.secret), timestamp, body),
        },
      });
    } catch (error) {
      if (timeout.aborted)
        throw new WebhookDeliveryError(`${where}: no answer within ${hook.timeout} ms`, false);
      const cause = (error as { cause?: unknown })?.cause ?? error;
      throw new WebhookDeliveryError(secrets.mask(`${where} ${describeNetworkError(cause)}`), false);
    }
    const said =
      oneLine(secrets.mask((await answer.text().catch(() => '')).slice(0, 4096))) || answer.statusText;
    const response = `HTTP ${answer.status}${said ? ` ${said}` : ''}`;
    if (answer.status >= 200 && answer.status < 300) return { accepted: true, response };
    if (answer.status >= 300 && answer.status < 400)
      throw new WebhookDeliveryError(
        `${where} answered HTTP ${answer.status}: redirects are not followed: set the final URL`,
        true,
      );
    throw new WebhookDeliveryError(`${where} answered ${response}`, !isRetryableStatus(answer.status));
  }

  async close(): Promise<void> {
    this.closing.abort();
    this.transport?.close();
  }
}
