import type { UiLanguage } from '../util/ui-language.ts';

/** The phases every protocol check times (PhaseTimings), in the order they happen. */
export type TimedPhase = 'dns' | 'connect' | 'tls' | 'firstByte' | 'download' | 'total';

/** What the alert mail and the run page call each phase. */
export const PHASE_LABELS: Record<UiLanguage, Record<TimedPhase, string>> = {
  en: {
    dns: 'DNS lookup',
    connect: 'TCP connect',
    tls: 'TLS handshake',
    firstByte: 'First byte',
    download: 'Download',
    total: 'Total',
  },
  ja: {
    dns: 'DNS 解決',
    connect: 'TCP 接続',
    tls: 'TLS ハンドシェイク',
    firstByte: '最初の 1 バイト',
    download: 'ダウンロード',
    total: '合計',
  },
};
