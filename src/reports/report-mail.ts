import { escapeHtml } from '../alerts/alert-mail-html.ts';
import type { AlertLanguage } from '../config/alerting-schema.ts';
import { formatZonedMinute } from '../evidence/zoned-time.ts';
import type { Report, ReportRow } from './compute-report.ts';
import { reportCsv } from './report-csv.ts';
import { REPORT_MAIL_MESSAGES } from './report-mail-messages.ts';

export interface ReportMail {
  subject: string;
  text: string;
  html: string;
  /** The same rows as GET /api/v1/reports?format=csv, attached. */
  csv: { filename: string; content: string };
}

export interface ReportMailOptions {
  /** `2026-11`. */
  month: string;
  language: AlertLanguage;
  /** The zone the month is a calendar month in. */
  timezone: string;
}

/** One line of the summary table: a check's total, or one of its locations under it. */
interface SummaryLine {
  check: string;
  location: string;
  row: ReportRow;
  total: boolean;
}

/**
 * The checks worst first: least error budget left at the top (a check without runs says
 * nothing and goes last), ties by name; each check's total, then its locations worst first.
 */
function summaryLines(report: Report, all: string): SummaryLine[] {
  const badness = (row: ReportRow) =>
    row.availability === undefined ? Number.POSITIVE_INFINITY : row.errorBudget.leftPercent;
  const byBudget = (a: ReportRow, b: ReportRow) => badness(a) - badness(b);
  return [...report.checks]
    .sort((a, b) => byBudget(a.total, b.total) || a.name.localeCompare(b.name))
    .flatMap((check) => [
      { check: check.name, location: all, row: check.total, total: true },
      ...[...check.locations]
        .sort(byBudget)
        .map((row) => ({ check: check.name, location: row.location ?? all, row, total: false })),
    ]);
}

const ms = (value: number | undefined) => (value === undefined ? '' : `${value} ms`);
const percent = (value: number | undefined) => (value === undefined ? '' : `${value}%`);

/**
 * The monthly report as a mail: a summary table worst first (availability against the
 * target, error budget left, p50/p95/p99, runs, runs left out for maintenance) as HTML and
 * as plain text, in the list's language, with the full CSV attached.
 */
export function renderReportMail(report: Report, options: ReportMailOptions): ReportMail {
  const words = REPORT_MAIL_MESSAGES[options.language];
  const [year, month] = options.month.split('-').map(Number);
  const monthName = words.month(year, month);
  const lines = summaryLines(report, words.allLocations);
  const totals = report.checks.filter((check) => check.total.availability !== undefined);
  const below = totals.filter((check) => (check.total.availability ?? 100) < report.target).length;
  const filename = `pathwatch-report-${options.month}.csv`;
  const verdict = (row: ReportRow) =>
    row.availability === undefined
      ? words.noRuns
      : row.availability >= report.target
        ? words.met
        : words.missed;
  const c = words.columns;
  const header = [
    c.check,
    c.location,
    c.availability,
    c.target,
    c.budgetLeft,
    c.p50,
    c.p95,
    c.p99,
    c.runs,
    c.excluded,
  ];
  const cells = (line: SummaryLine) => [
    line.total ? line.check : '',
    line.location,
    line.row.availability === undefined ? words.noRuns : percent(line.row.availability),
    verdict(line.row),
    line.row.availability === undefined ? '' : percent(line.row.errorBudget.leftPercent),
    ms(line.row.p50),
    ms(line.row.p95),
    ms(line.row.p99),
    String(line.row.runs),
    String(line.row.excludedRuns),
  ];
  const intro = words.intro(
    formatZonedMinute(report.from, options.timezone),
    formatZonedMinute(report.to, options.timezone),
    options.timezone,
  );
  const notes = [words.worstFirst, words.maintenanceNote, words.percentileNote, words.attached(filename)];

  // Plain text: columns padded to their widest cell (a CJK character counts two columns).
  const width = (text: string) =>
    [...text].reduce((sum, char) => sum + (/[\u3000-\uffff]/.test(char) ? 2 : 1), 0);
  const rows = [header, ...lines.map(cells)];
  const widths = header.map((_, index) => Math.max(...rows.map((row) => width(row[index]))));
  const textRow = (row: string[]) =>
    row
      .map((cell, index) => cell + ' '.repeat(widths[index] - width(cell)))
      .join('  ')
      .trimEnd();
  const text = [
    words.title(monthName),
    '',
    intro,
    words.target(report.target),
    '',
    ...(lines.length === 0
      ? [words.noChecks]
      : [textRow(header), ...lines.map((line) => textRow(cells(line)))]),
    '',
    ...notes,
    '',
  ].join('\n');

  const font =
    "font-family:-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Sans CJK JP','Hiragino Sans',Meiryo,sans-serif";
  const cellStyle = 'padding:6px 8px;border-bottom:1px solid #eaecf0;text-align:left;white-space:nowrap';
  const tone = (row: ReportRow) =>
    row.availability === undefined ? '#667085' : row.availability >= report.target ? '#067647' : '#b42318';
  const htmlRow = (line: SummaryLine) =>
    `<tr${line.total ? ' style="font-weight:600"' : ''}>${cells(line)
      .map(
        (cell, index) =>
          `<td style="${cellStyle}${index === 2 || index === 3 ? `;color:${tone(line.row)}` : ''}">${escapeHtml(cell)}</td>`,
      )
      .join('')}</tr>`;
  const html = [
    `<!DOCTYPE html><html lang="${options.language}"><head><meta charset="utf-8"><title>${escapeHtml(words.title(monthName))}</title></head>`,
    `<body style="${font};color:#101828;margin:0;padding:16px">`,
    `<h1 style="font-size:20px;margin:0 0 8px">${escapeHtml(words.title(monthName))}</h1>`,
    `<p style="margin:0 0 4px">${escapeHtml(intro)}</p>`,
    `<p style="margin:0 0 16px"><strong>${escapeHtml(words.target(report.target))}</strong></p>`,
    lines.length === 0
      ? `<p>${escapeHtml(words.noChecks)}</p>`
      : `<table style="border-collapse:collapse;font-size:14px"><thead><tr>${header
          .map((name) => `<th style="${cellStyle};border-bottom:2px solid #d0d5dd">${escapeHtml(name)}</th>`)
          .join('')}</tr></thead><tbody>${lines.map(htmlRow).join('')}</tbody></table>`,
    `<p style="margin:16px 0 0;color:#475467;font-size:13px">${notes.map(escapeHtml).join('<br>')}</p>`,
    '</body></html>',
  ].join('\n');

  return {
    subject: words.subject(monthName, below, totals.length, report.target),
    text,
    html,
    csv: { filename, content: reportCsv(report) },
  };
}
