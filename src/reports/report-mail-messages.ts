import type { AlertLanguage } from '../config/alerting-schema.ts';

/** Every word the monthly report mail shows, in each language a list may ask for. */
export interface ReportMailMessages {
  /** The month as a heading says it. */
  month(year: number, month: number): string;
  subject(month: string, below: number, total: number, target: number): string;
  title(month: string): string;
  intro(from: string, to: string, timezone: string): string;
  target(target: number): string;
  columns: {
    check: string;
    location: string;
    availability: string;
    target: string;
    budgetLeft: string;
    p50: string;
    p95: string;
    p99: string;
    runs: string;
    excluded: string;
  };
  allLocations: string;
  met: string;
  missed: string;
  noRuns: string;
  worstFirst: string;
  attached(filename: string): string;
  maintenanceNote: string;
  percentileNote: string;
  noChecks: string;
}

const EN_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

export const REPORT_MAIL_MESSAGES: Record<AlertLanguage, ReportMailMessages> = {
  en: {
    month: (year, month) => `${EN_MONTHS[month - 1]} ${year}`,
    subject: (month, below, total, target) =>
      below === 0
        ? `[pathwatch] Monthly report ${month}: all ${total} on target (${target}%)`
        : `[pathwatch] Monthly report ${month}: ${below} of ${total} below target (${target}%)`,
    title: (month) => `Availability report, ${month}`,
    intro: (from, to, timezone) => `From ${from} to ${to} (${timezone}), maintenance left out.`,
    target: (target) => `Target: ${target}% availability.`,
    columns: {
      check: 'Check',
      location: 'Location',
      availability: 'Availability',
      target: 'vs target',
      budgetLeft: 'Error budget left',
      p50: 'p50',
      p95: 'p95',
      p99: 'p99',
      runs: 'Runs',
      excluded: 'Left out (maintenance)',
    },
    allLocations: 'all',
    met: 'met',
    missed: 'MISSED',
    noRuns: 'no runs',
    worstFirst: 'Worst first: the least error budget left at the top.',
    attached: (filename) => `Every row is in the attached ${filename}.`,
    maintenanceNote: 'Runs inside maintenance windows are left out.',
    percentileNote: 'Percentiles are the upper bound of the latency bucket holding them.',
    noChecks: 'No checks or journeys are configured.',
  },
  ja: {
    month: (year, month) => `${year}年${month}月`,
    subject: (month, below, total, target) =>
      below === 0
        ? `[pathwatch] 月次レポート ${month}: 全 ${total} 件が目標達成 (${target}%)`
        : `[pathwatch] 月次レポート ${month}: ${total} 件中 ${below} 件が目標未達 (${target}%)`,
    title: (month) => `可用性レポート ${month}`,
    intro: (from, to, timezone) => `${from} から ${to} まで (${timezone})。メンテナンス中は除外しています。`,
    target: (target) => `目標可用性: ${target}%`,
    columns: {
      check: 'チェック',
      location: 'ロケーション',
      availability: '可用性',
      target: '目標比',
      budgetLeft: 'エラーバジェット残',
      p50: 'p50',
      p95: 'p95',
      p99: 'p99',
      runs: '実行数',
      excluded: '除外 (メンテナンス)',
    },
    allLocations: '全体',
    met: '達成',
    missed: '未達',
    noRuns: '実行なし',
    worstFirst: 'エラーバジェット残の少ない順 (悪い順) に並べています。',
    attached: (filename) => `全行は添付の ${filename} にあります。`,
    maintenanceNote: 'メンテナンス時間帯の実行は除外しています。',
    percentileNote: 'パーセンタイルは該当するレイテンシ区間の上限値です。',
    noChecks: 'チェックもジャーニーも設定されていません。',
  },
};
