import type { AlertChannel, ChannelReceipt } from '../alerts/alert-channel.ts';
import type { AlertEvent } from '../alerts/alert-event.ts';
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
  /** The alert channels (mail, webhook): the report goes through them. Their owner closes them. */
  channels: AlertChannel[];
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
 * windows) and hands it to a list through the alert channels: its mail recipients get the
 * summary with the CSV attached, its webhook the report as JSON, signed as alerts are.
 */
export class MonthlyReportSender {
  private readonly channels: Map<AlertEvent['channel'], AlertChannel>;

  constructor(private readonly options: MonthlyReportSenderOptions) {
    this.channels = new Map(options.channels.map((channel) => [channel.name, channel]));
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
    const channel = this.channels.get(job.channel);
    if (!channel)
      throw Object.assign(new Error(`no ${job.channel} channel is configured`), { permanent: true });
    const mail = renderReportMail(report, {
      month: job.month,
      language: job.language,
      timezone: this.options.timezone,
    });
    const json: ReportWebhookPayload = {
      version: 1,
      key: job.key,
      kind: 'report',
      list: job.list,
      month: job.month,
      timezone: this.options.timezone,
      summary: mail.subject,
      report,
    };
    return channel.deliver(job, {
      mail: {
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        attachments: [
          { filename: mail.csv.filename, content: mail.csv.content, contentType: 'text/csv; charset=utf-8' },
        ],
      },
      json,
    });
  }
}
