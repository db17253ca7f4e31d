import type { UiLanguage } from '../util/ui-language.ts';
import type { VerdictName } from './verdict.ts';

/** The verdicts that say where a check fails: a sentence about one reads the same in every view. */
export type FailingVerdict = 'service' | 'outside-path' | 'inside-path' | 'partial';

/** How verdicts are worded in one language. */
export interface VerdictLabels {
  /** A few words, for the map's badges and tooltips. */
  short: Record<VerdictName, string>;
  /** A phrase that says where it fails, for the console's status and check tables. */
  phrase: Record<VerdictName, string>;
  /**
   * The sentence of a failing verdict, `{down}` being the locations it fails from, for the
   * alert mail and the run page. `ok`, `probe-host` and `no-data` are not here: each of those
   * views words them for the moment it speaks of (now, or one schedule slot).
   */
  sentence: Record<FailingVerdict, string>;
}

/** Every wording of every verdict, the one place they are written; the tables take them in by key. */
export const VERDICT_LABELS: Record<UiLanguage, VerdictLabels> = {
  en: {
    short: {
      ok: 'ok',
      service: 'service down',
      'outside-path': 'outside path broken',
      'inside-path': 'inside path broken',
      partial: 'failing from some locations',
      'probe-host': 'probe host at fault',
      'no-data': 'no data',
    },
    phrase: {
      ok: 'passing',
      service: 'failing from everywhere: the service',
      'outside-path': 'failing from outside only: the path',
      'inside-path': 'failing from inside only: the path',
      partial: 'failing from some locations',
      'probe-host': 'a probe host is at fault',
      'no-data': 'no data yet',
    },
    sentence: {
      service: 'Failing from every location ({down}): the service itself.',
      'outside-path':
        'Failing only from outside ({down}) while inside passes: the path between the outside and us.',
      'inside-path':
        'Failing only from inside ({down}) while outside passes: the path inside the data centre.',
      partial: 'Failing from {down} only.',
    },
  },
  ja: {
    short: {
      ok: '正常',
      service: 'サービス障害',
      'outside-path': '外部経路の障害',
      'inside-path': '内部経路の障害',
      partial: '一部の拠点で失敗',
      'probe-host': '監視ホストの障害',
      'no-data': 'データなし',
    },
    phrase: {
      ok: '正常',
      service: '全拠点で失敗：サービス側',
      'outside-path': '外部からのみ失敗：経路',
      'inside-path': '内部からのみ失敗：経路',
      partial: '一部の拠点で失敗',
      'probe-host': '監視ホストの障害',
      'no-data': 'データなし',
    },
    sentence: {
      service: 'すべてのロケーション（{down}）で失敗しています。サービス自体の障害です。',
      'outside-path':
        '外部（{down}）からのみ失敗し、内部からは成功しています。外部からこちらまでの経路の問題です。',
      'inside-path':
        '内部（{down}）からのみ失敗し、外部からは成功しています。データセンター内部の経路の問題です。',
      partial: '{down} からのみ失敗しています。',
    },
  },
};
