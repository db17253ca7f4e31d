import type { ErrorCode } from '../../results/error-codes.ts';
import { PHASE_LABELS } from '../../results/phase-labels.ts';
import { VERDICT_LABELS } from '../../results/verdict-labels.ts';
import { fillIn } from '../../util/fill-in.ts';
import { prefixKeys } from '../../util/prefix-keys.ts';
import { UI_LANGUAGES, type UiLanguage } from '../../util/ui-language.ts';

/** The languages the run page is written in. */
export const PAGE_LANGUAGES = UI_LANGUAGES;
export type PageLanguage = UiLanguage;

/**
 * Every string the run page and its refusal pages show, in English. `{name}` marks a value
 * put in by fillIn(); the Japanese table must have the same keys (the type says so).
 */
const en = {
  htmlTitle: 'Run {runId} of {check} · pathwatch',
  heading: '{check} at {location}',
  languageSwitch: 'Language',
  runId: 'Run',
  check: 'Check',
  kind: 'Kind',
  location: 'Location',
  status: 'Status',
  attempt: 'Attempt',
  attemptOf: 'attempt {attempt} of {count}',
  scheduledAt: 'Scheduled',
  startedAt: 'Started',
  finishedAt: 'Finished',
  duration: 'Duration',
  host: 'Host',
  timesNote: 'Times are UTC, in ISO 8601 (the trailing Z means UTC, offset +00:00).',
  timesNoteZoned: 'Times are UTC, in ISO 8601; in brackets the same time in {zone} with its offset.',
  timesNoteHint: 'Add ?tz=Area/City (e.g. ?tz=Asia/Tokyo) to the address to see local times too.',
  signedLinkNote: 'Opened through a signed link, valid until {until}.',
  operatorOnlyNote: 'Traces, HAR files, packet captures and bundles are shown to operators only.',
  verdictHeading: 'Verdict across locations for this slot',
  'verdict.ok': 'Passing from every location that ran this slot.',
  ...prefixKeys('verdict.', VERDICT_LABELS.en.sentence),
  'verdict.probe-host': 'The probe host at {down} is at fault, not the target.',
  'verdict.no-data': 'No location has a counted run in this slot.',
  slotLocation: 'Location',
  slotAttempts: 'Attempts',
  slotOutcome: 'Outcome',
  slotNoRun: 'no run in this slot',
  slotOpen: 'open its page',
  thisRun: 'this run',
  attemptsHeading: 'Attempts',
  attemptsNote: 'A failed run is tried again at once before it counts; each attempt keeps its own evidence.',
  stepsHeading: 'Steps',
  stepNumber: '#',
  stepName: 'Step',
  stepStatus: 'Result',
  stepStarted: 'Started (from the run start)',
  stepDuration: 'Took',
  failingScreenshot: 'Screenshot of the failing step',
  screenshot: 'Screenshot',
  errorHeading: 'Error',
  errorCode: 'Code',
  errorClass: 'Class',
  errorPhase: 'Phase',
  errorMessage: 'Message',
  errorAction: 'What to do',
  phasesHeading: 'Phase timings',
  ...prefixKeys('phase.', PHASE_LABELS.en),
  peersHeading: 'Peers',
  peersNone: 'No remote peer was reached.',
  assertionsHeading: 'Assertions',
  assertionName: 'Assertion',
  assertionExpected: 'Expected',
  assertionActual: 'Actual',
  assertionOk: 'held',
  assertionFailed: 'failed',
  assertionDegraded: 'degraded',
  captureHeading: 'Packet capture',
  captureDiagnosis: 'Diagnosis',
  captureNone: 'No packet capture was stored for this attempt.',
  flowsHeading: 'Flows',
  flowEndpoints: 'Client → server',
  flowPackets: 'Packets (sent / received)',
  flowHandshake: 'Handshake',
  flowBytes: 'Bytes (sent / received)',
  flowNotes: 'Notes',
  flowDiagnosis: 'Diagnosis',
  flowHandshakeMs: 'SYN answered in {ms} ms',
  flowNoAnswer: '{syns} SYN, none answered',
  flowMidConnection: 'started mid-connection',
  flowRetransmissions: '{count} retransmissions',
  flowReset: 'RST from {side}',
  flowOtherRun: "another run's flow",
  dnsQuery: 'DNS {type} {name} → {server}',
  dnsNoAnswer: 'no answer',
  evidenceHeading: 'Evidence',
  traceViewer: 'Open the trace in the trace viewer',
  traceDownload: 'Trace (trace.zip)',
  har: 'HAR file',
  pcap: 'Packet capture (pcap)',
  analysisText: 'Capture analysis (text)',
  otherArtifact: 'File {name}',
  bundle: 'Escalation bundle for this run (zip)',
  noEvidence: 'No evidence files were stored for this attempt.',
  'status.pass': 'pass',
  'status.degraded': 'degraded',
  'status.fail': 'fail',
  'status.error': 'error',
  'status.skipped': 'skipped',
  msUnit: '{ms} ms',
  // Refusal pages: a link that does not open, a missing token, a run that is gone.
  'refusal.LINK_EXPIRED.title': 'This link has expired',
  'refusal.LINK_EXPIRED.text':
    'Signed links open a run only for a limited time. Open the run again from pathwatch, or ask whoever sent it for a new link.',
  'refusal.LINK_INVALID.title': 'This link is not valid',
  'refusal.LINK_INVALID.text':
    'The link was changed, cut short, or is for another run. Copy the whole link from the message it came in.',
  'refusal.UNAUTHORIZED.title': 'Sign-in needed',
  'refusal.UNAUTHORIZED.text':
    'This page needs an API token (Authorization: Bearer …) or a signed link to this run.',
  'refusal.FORBIDDEN.title': 'Not allowed',
  'refusal.FORBIDDEN.text': "Your token's role does not allow this page.",
  'refusal.RUN_NOT_FOUND.title': 'No such run',
  'refusal.RUN_NOT_FOUND.text':
    'There is no run with this id. Run records expire after a while (keepRuns, runsPerSeries).',
  'refusal.BAD_REQUEST.title': 'Malformed address',
  'refusal.BAD_REQUEST.text': 'The address of this page is not valid.',
  'refusal.other.title': 'The page cannot be shown',
  'refusal.other.text': 'pathwatch could not answer this request.',
  refusalDetail: 'Details',
  refusalStatus: 'HTTP status {status}',
};

export type MessageKey = keyof typeof en;

const ja: Record<MessageKey, string> = {
  htmlTitle: '{check} の実行 {runId} · pathwatch',
  heading: '{check}（{location}）',
  languageSwitch: '表示言語',
  runId: '実行 ID',
  check: 'チェック',
  kind: '種類',
  location: 'ロケーション',
  status: '結果',
  attempt: '試行',
  attemptOf: '{count} 回中 {attempt} 回目',
  scheduledAt: '予定時刻',
  startedAt: '開始',
  finishedAt: '終了',
  duration: '所要時間',
  host: 'ホスト',
  timesNote:
    '時刻はすべて UTC（協定世界時）、ISO 8601 形式です（末尾の Z は UTC、オフセット +00:00 を表します）。',
  timesNoteZoned: '時刻はすべて UTC、ISO 8601 形式です。括弧内は {zone} の現地時刻とそのオフセットです。',
  timesNoteHint: 'アドレスに ?tz=Asia/Tokyo のように付けると、現地時刻も併せて表示します。',
  signedLinkNote: '署名付きリンクで開いています（有効期限: {until}）。',
  operatorOnlyNote: 'トレース、HAR ファイル、パケットキャプチャ、バンドルはオペレーターにのみ表示されます。',
  verdictHeading: 'この実行枠のロケーション横断判定',
  'verdict.ok': 'この実行枠を実行したすべてのロケーションで成功しています。',
  ...prefixKeys('verdict.', VERDICT_LABELS.ja.sentence),
  'verdict.probe-host': '{down} のプローブホスト側の問題であり、監視対象の問題ではありません。',
  'verdict.no-data': 'この実行枠で判定に数えられる実行がありません。',
  slotLocation: 'ロケーション',
  slotAttempts: '試行回数',
  slotOutcome: '結果',
  slotNoRun: 'この実行枠の実行なし',
  slotOpen: 'この実行のページを開く',
  thisRun: 'この実行',
  attemptsHeading: '試行',
  attemptsNote: '失敗した実行は、判定に数える前にすぐ再試行されます。証跡は試行ごとに保存されます。',
  stepsHeading: 'ステップ',
  stepNumber: '#',
  stepName: 'ステップ名',
  stepStatus: '結果',
  stepStarted: '開始（実行開始から）',
  stepDuration: '所要時間',
  failingScreenshot: '失敗したステップのスクリーンショット',
  screenshot: 'スクリーンショット',
  errorHeading: 'エラー',
  errorCode: 'コード',
  errorClass: '分類',
  errorPhase: 'フェーズ',
  errorMessage: 'メッセージ',
  errorAction: '対処方法',
  phasesHeading: 'フェーズ別の所要時間',
  ...prefixKeys('phase.', PHASE_LABELS.ja),
  peersHeading: '通信先',
  peersNone: '通信先に到達していません。',
  assertionsHeading: 'アサーション',
  assertionName: 'アサーション',
  assertionExpected: '期待値',
  assertionActual: '実際の値',
  assertionOk: '成立',
  assertionFailed: '不成立',
  assertionDegraded: '低下',
  captureHeading: 'パケットキャプチャ',
  captureDiagnosis: '診断',
  captureNone: 'この試行のパケットキャプチャは保存されていません。',
  flowsHeading: 'フロー',
  flowEndpoints: 'クライアント → サーバー',
  flowPackets: 'パケット数（送信 / 受信）',
  flowHandshake: 'ハンドシェイク',
  flowBytes: 'バイト数（送信 / 受信）',
  flowNotes: '備考',
  flowDiagnosis: '診断',
  flowHandshakeMs: 'SYN に {ms} ms で応答あり',
  flowNoAnswer: 'SYN {syns} 回、応答なし',
  flowMidConnection: '接続の途中からキャプチャ',
  flowRetransmissions: '再送 {count} 回',
  flowReset: '{side} 側から RST',
  flowOtherRun: '別の実行のフロー',
  dnsQuery: 'DNS {type} {name} → {server}',
  dnsNoAnswer: '応答なし',
  evidenceHeading: '証跡',
  traceViewer: 'トレースビューアーでトレースを開く',
  traceDownload: 'トレース（trace.zip）',
  har: 'HAR ファイル',
  pcap: 'パケットキャプチャ（pcap）',
  analysisText: 'キャプチャの解析結果（テキスト）',
  otherArtifact: 'ファイル {name}',
  bundle: 'この実行のエスカレーション用バンドル（zip）',
  noEvidence: 'この試行の証跡ファイルは保存されていません。',
  'status.pass': '成功',
  'status.degraded': '低下',
  'status.fail': '失敗',
  'status.error': 'エラー',
  'status.skipped': 'スキップ',
  msUnit: '{ms} ms',
  'refusal.LINK_EXPIRED.title': 'このリンクは有効期限が切れています',
  'refusal.LINK_EXPIRED.text':
    '署名付きリンクで実行を開けるのは一定期間だけです。pathwatch から実行を開き直すか、リンクの送信者に新しいリンクを依頼してください。',
  'refusal.LINK_INVALID.title': 'このリンクは無効です',
  'refusal.LINK_INVALID.text':
    'リンクが書き換えられたか、途中で切れているか、別の実行のものです。届いたメッセージからリンク全体をコピーしてください。',
  'refusal.UNAUTHORIZED.title': '認証が必要です',
  'refusal.UNAUTHORIZED.text':
    'このページを開くには API トークン（Authorization: Bearer …）か、この実行への署名付きリンクが必要です。',
  'refusal.FORBIDDEN.title': '権限がありません',
  'refusal.FORBIDDEN.text': 'お使いのトークンのロールでは、このページを開けません。',
  'refusal.RUN_NOT_FOUND.title': '実行が見つかりません',
  'refusal.RUN_NOT_FOUND.text':
    'この ID の実行はありません。実行の記録は一定期間が過ぎると削除されます（keepRuns、runsPerSeries）。',
  'refusal.BAD_REQUEST.title': 'アドレスが正しくありません',
  'refusal.BAD_REQUEST.text': 'このページのアドレスが正しい形式ではありません。',
  'refusal.other.title': 'ページを表示できません',
  'refusal.other.text': 'pathwatch はこのリクエストに応答できませんでした。',
  refusalDetail: '詳細',
  refusalStatus: 'HTTP ステータス {status}',
};

/**
 * What to do about each error code, in Japanese (English is error-codes.ts itself). A code
 * missing here falls back to English; test/unit/run-page-messages.test.ts fails then.
 */
export const JA_ACTIONS: Partial<Record<ErrorCode, string>> = {
  DNS_NOT_FOUND: '名前にアドレスがありません。綴りと、権威サーバー上のレコード（A/AAAA）を確認してください。',
  DNS_FAILED:
    'リゾルバーが応答できませんでした（EAI_AGAIN）。プローブホストのリゾルバーとその上流を確認してください。',
  DNS_TIMEOUT:
    '名前解決にタイムアウトの時間をすべて使いました。プローブホストのリゾルバーを確認してください。',
  DNS_NO_ANSWER:
    '`dns` チェックが問い合わせた DNS サーバーから応答がありません。サーバーが動作していること、UDP/TCP 53 番が届くことを確認してください。',
  DNS_RCODE:
    'DNS サーバーが別の rcode（NXDOMAIN、SERVFAIL、REFUSED）で応答しました。ゾーンとサーバーを確認してください。',
  CONNECT_REFUSED:
    'そのポートで待ち受けているものがないか、ファイアウォールが拒否しています。サービスが起動し、そのアドレスで待ち受けているか確認してください。',
  UNREACHABLE:
    'ホストまたはネットワークへの経路がありません（EHOSTUNREACH、ENETUNREACH、ICMP）。経路上のルーティングとファイアウォールを確認してください。',
  CONNECT_TIMEOUT:
    'SYN に応答がありません。ファイアウォールが破棄しているか、ホストが停止しています。どこで止まったかはキャプチャで分かります。',
  CONNECTION_RESET:
    'サーバーまたは途中の機器が接続をリセットしました。サーバーのログと、ロードバランサーやプロキシを確認してください。',
  CONNECTION_CLOSED:
    'サーバーが応答する前に接続を閉じました。サーバーのログ（クラッシュ、制限、アイドルタイムアウト）を確認してください。',
  NETWORK_ERROR:
    'その他のソケットエラーです（errno はメッセージにあります）。プローブホストと経路を確認してください。',
  TLS_EXPIRED: '証明書の有効期限が切れています。証明書を更新し、更新ジョブを確認してください。',
  TLS_NOT_YET_VALID: '証明書がまだ有効になっていません。サーバーの証明書と、双方の時計を確認してください。',
  TLS_UNTRUSTED:
    '証明書チェーンが信頼された CA につながりません。中間証明書を配信するか、プライベート CA なら `tls.ca` を設定してください。',
  TLS_HOSTNAME: '証明書が別の名前のものです。正しい証明書を配信するか、`tls.serverName` を設定してください。',
  TLS_HANDSHAKE:
    'TLS ハンドシェイクに失敗しました（プロトコル、暗号方式、証明書なし）。`openssl s_client` の結果と比べてください。',
  STARTTLS_REFUSED:
    'サーバーが STARTTLS / AUTH TLS を提示しないか、受け付けませんでした。サーバーで TLS を有効にするか、チェックを変更してください。',
  CERT_EXPIRES_SOON: '証明書は有効ですが、残り日数が `tls.failDays` を下回っています。更新してください。',
  TLS_POLICY:
    '発行者または TLS バージョンがチェックの要件（`tls.issuer`、`tls.minVersion`）を満たしていません。サーバーを確認してください。',
  AUTH_REJECTED:
    'サーバーがログインを拒否しました（SMTP 535、FTP 530、認証情報付きの HTTP 401/407）。`auth` を確認してください。',
  AUTH_UNAVAILABLE:
    'pathwatch が使えるログイン方式をサーバーが提示していません（AUTH なし、PLAIN/LOGIN なし）。多くの場合、先に STARTTLS が必要です。',
  HTTP_STATUS:
    'HTTP ステータスが期待したものではありません。401 の場合は、認証情報が送られたかどうかがメッセージに示されます。',
  REDIRECT_LOOP:
    'リダイレクトが既に通った URL に戻っています（経路はメッセージにあります）。リダイレクトの規則を修正してください。',
  TOO_MANY_REDIRECTS:
    'リダイレクトの回数が `followRedirects` の上限を超えました。リダイレクトの連鎖を修正するか、上限を上げてください。',
  REDIRECT_REFUSED:
    '別オリジンへのリダイレクトでは秘密情報が再送されてしまいます。チェックの URL を最終的な URL にするか、`forwardCredentialsOnRedirect` を設定してください。',
  REPLY_REJECTED:
    'サーバーがコマンドを拒否しました（SMTP の MAIL/RCPT/DATA、FTP の LIST/RETR）。応答内容はメッセージにあります。',
  PROTOCOL:
    'サーバーがプロトコル外の応答をしました（不正なバナー、壊れた応答）。そのポートで何が待ち受けているか確認してください。',
  ASSERTION:
    '対象は応答しましたが、チェックの期待どおりではありません。期待値と実際の値はメッセージにあります。',
  SLOW_RESPONSE: '`maxResponseTime` / `maxRtt` より遅い応答です。サーバーと経路を確認してください。',
  PACKET_LOSS:
    '失われたエコー要求が `maxLoss` を超えました。経路を確認してください（失われたパケットはキャプチャで分かります）。',
  BROKEN_LINKS: 'クロールで失敗するリンクが見つかりました。各リンクを含むページは `details` にあります。',
  NO_ECHO_REPLY:
    'ICMP エコー応答がまったくありません。ホストが停止しているか、経路上で ICMP が遮断されています。',
  TIMEOUT:
    '示されたフェーズで時間切れになりました（応答なし、転送の停止）。サーバーとキャプチャを確認してください。',
  PING_UNAVAILABLE:
    'ワーカーホストで ping を実行できませんでした。iputils-ping をインストールし、ICMP ソケットを許可し、ローカルのファイアウォールを確認してください。',
  CONFIG:
    'この設定ではチェックを実行できません（ファイルや秘密情報の不足）。該当する設定はメッセージにあります。',
  CANCELLED:
    'ワーカーの停止（またはジョブの取り消し）で実行が中断されました。対象の問題ではないため、対応は不要です。',
  INTERNAL: 'pathwatch 自身の障害であり、対象の問題ではありません。メッセージを添えて報告してください。',
};

export const MESSAGES: Record<PageLanguage, Record<MessageKey, string>> = { en, ja };

/** A translator for one language: `t('attemptOf', { attempt: 2, count: 3 })`. */
export function translatorFor(language: PageLanguage) {
  const table = MESSAGES[language];
  return (key: MessageKey, values?: Record<string, string | number>) => fillIn(table[key], values);
}

export type Translate = ReturnType<typeof translatorFor>;
