import type { ErrorCode } from '../../results/error-codes.ts';
import { verdictAndPhaseLabels } from '../../results/verdict-and-phase-labels.ts';
import { fillIn } from '../../util/fill-in.ts';
import { UI_LANGUAGES, type UiLanguage } from '../../util/ui-language.ts';
import enTexts from './messages/en.json' with { type: 'json' };
import jaTexts from './messages/ja.json' with { type: 'json' };

/** The languages the run page is written in. */
export const PAGE_LANGUAGES = UI_LANGUAGES;
export type PageLanguage = UiLanguage;

/**
 * Every string the run page and its refusal pages show: the texts are data, one file a language
 * (messages/*.json, `{name}` filled in by fillIn()), so translators edit no code; verdict and
 * phase words come from the shared labels. The Japanese table must have every key of the
 * English one (the type says so).
 */
const en = { ...enTexts, ...verdictAndPhaseLabels('en') };

export type MessageKey = keyof typeof en;

const ja: Record<MessageKey, string> = { ...jaTexts, ...verdictAndPhaseLabels('ja') };

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
