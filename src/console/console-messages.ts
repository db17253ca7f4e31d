import type { PageLanguage } from '../evidence/run-page/messages.ts';

/** Every word the console's pages show, in each language they are written in. */
const EN = {
  title: 'pathwatch',
  navStatus: 'Status',
  navMap: 'Map',
  navReports: 'Reports',
  navCaptures: 'Captures',
  signIn: 'Sign in',
  signOut: 'Sign out',
  signedInAs: 'Signed in as {name} ({role})',
  signInTitle: 'Sign in to pathwatch',
  signInHelp:
    'Paste an API token (`pathwatch token create` makes one). It is checked, then forgotten: the browser keeps a session for {hours} hours, never the token.',
  tokenLabel: 'API token',
  signInRefused: 'This token is not in api.tokens, or cannot read. Check it and try again.',
  statusTitle: 'Status',
  statusSummary: '{down} down, {degraded} degraded, {up} up, {unknown} unknown',
  check: 'Check',
  kind: 'Kind',
  verdict: 'Verdict',
  last24h: 'Last 24 h',
  since: 'since {time}',
  for: 'for {duration}',
  filterTag: 'Tag',
  filterKind: 'Kind',
  filterState: 'State',
  filterLocation: 'Location',
  filterAll: 'all',
  filterApply: 'Filter',
  noItems: 'No check or journey matches these filters.',
  maintenanceBanner: 'Maintenance {name} until {end}{reason}: alerts about what it covers are held back.',
  noWorkerBanner: 'No worker is alive at {location}: its checks are not run, and not judged.',
  updated: 'Updated {time}; refreshes by itself.',
  stateUP: 'UP',
  stateDOWN: 'DOWN',
  stateDEGRADED: 'DEGRADED',
  stateUNKNOWN: 'UNKNOWN',
  'stateNO WORKER': 'NO WORKER',
  verdict_ok: 'passing',
  verdict_service: 'failing from everywhere: the service',
  'verdict_outside-path': 'failing from outside only: the path',
  'verdict_inside-path': 'failing from inside only: the path',
  verdict_partial: 'failing from some locations',
  'verdict_probe-host': 'a probe host is at fault',
  'verdict_no-data': 'no data yet',
  sparkTitle: 'Availability per hour, last 24 hours (grey: no runs)',
  language: 'Language',
  mapTitle: 'Map of paths',
  mapHelp:
    'Each line is a path from a location to a service, coloured by the worst state of the checks on it; outside locations reach the services over the line. Click a path for its checks.',
} as const;

export type ConsoleMessageKey = keyof typeof EN;

const JA: Record<ConsoleMessageKey, string> = {
  title: 'pathwatch',
  navStatus: '状態',
  navMap: 'マップ',
  navReports: 'レポート',
  navCaptures: 'キャプチャ',
  signIn: 'サインイン',
  signOut: 'サインアウト',
  signedInAs: '{name}（{role}）でサインイン中',
  signInTitle: 'pathwatch にサインイン',
  signInHelp:
    'API トークンを貼り付けてください（`pathwatch token create` で作成）。確認後は保持しません。ブラウザーが保持するのは {hours} 時間有効なセッションだけです。',
  tokenLabel: 'API トークン',
  signInRefused: 'このトークンは api.tokens にないか、閲覧できません。確認してもう一度お試しください。',
  statusTitle: '状態',
  statusSummary: '停止 {down}、劣化 {degraded}、正常 {up}、不明 {unknown}',
  check: 'チェック',
  kind: '種類',
  verdict: '判定',
  last24h: '過去 24 時間',
  since: '{time} から',
  for: '{duration} 継続',
  filterTag: 'タグ',
  filterKind: '種類',
  filterState: '状態',
  filterLocation: '拠点',
  filterAll: 'すべて',
  filterApply: '絞り込む',
  noItems: '条件に合うチェックやジャーニーはありません。',
  maintenanceBanner: 'メンテナンス {name}（{end} まで）{reason}：対象のアラートは保留されます。',
  noWorkerBanner: '{location} に稼働中のワーカーがありません。この拠点のチェックは実行も判定もされません。',
  updated: '{time} 更新。自動で再読み込みします。',
  stateUP: '正常',
  stateDOWN: '停止',
  stateDEGRADED: '劣化',
  stateUNKNOWN: '不明',
  'stateNO WORKER': 'ワーカーなし',
  verdict_ok: '正常',
  verdict_service: '全拠点で失敗：サービス側',
  'verdict_outside-path': '外部からのみ失敗：経路',
  'verdict_inside-path': '内部からのみ失敗：経路',
  verdict_partial: '一部の拠点で失敗',
  'verdict_probe-host': '監視ホストの障害',
  'verdict_no-data': 'データなし',
  sparkTitle: '1 時間ごとの可用性（過去 24 時間、灰色：実行なし）',
  language: '言語',
  mapTitle: '経路マップ',
  mapHelp:
    '各線は拠点からサービスへの経路で、その経路上のチェックの最も悪い状態で色分けされています。外部拠点は回線を経由してサービスに到達します。経路をクリックするとチェックが表示されます。',
};

const TABLES: Record<PageLanguage, Record<ConsoleMessageKey, string>> = { en: EN, ja: JA };

export type ConsoleTranslator = (key: ConsoleMessageKey, values?: Record<string, string | number>) => string;

/** `t('since', { time })`: the message in the page's language, `{name}` filled in. */
export function consoleTranslator(language: PageLanguage): ConsoleTranslator {
  const table = TABLES[language];
  return (key, values = {}) =>
    table[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      name in values ? String(values[name]) : whole,
    );
}
