import type { CheckStateName } from '../results/state-store.ts';
import type { VerdictName } from '../results/verdict.ts';
import { VERDICT_LABELS } from '../results/verdict-labels.ts';
import { fillIn } from '../util/fill-in.ts';
import { prefixKeys } from '../util/prefix-keys.ts';
import { UI_LANGUAGES, type UiLanguage } from '../util/ui-language.ts';

/** The languages the map is drawn in. */
export const MAP_LANGUAGES = UI_LANGUAGES;
export type MapLanguage = UiLanguage;

/** Every word the map draws, in English; `{name}` is filled in by fillIn(). */
const en = {
  title: 'Map of paths',
  asOf: 'as of {time} UTC',
  inside: 'Inside (data centre)',
  outside: 'Outside',
  line: 'the line',
  services: 'Services',
  liveWorkers: '{count} live worker(s)',
  noWorkers: 'no live worker',
  control: 'control {check}: {state}',
  more: '+{count} more ({states})',
  failing: 'Failing:',
  noneFailing: 'No failing check.',
  lineBroken: 'The line is broken for: {targets}',
  lineOk: 'No target blames the line.',
  lineBeyond: 'The line carries other paths: the paths to {targets} fail from outside only, beyond it.',
  legend: 'Path state:',
  'state.UP': 'up',
  'state.DEGRADED': 'degraded',
  'state.UNKNOWN': 'unknown',
  'state.DOWN': 'down',
  ...prefixKeys('verdict.', VERDICT_LABELS.en.short),
  empty: 'No check or journey is configured yet.',
};

export type MapMessageKey = keyof typeof en;

const ja: Record<MapMessageKey, string> = {
  title: '経路マップ',
  asOf: '{time} UTC 時点',
  inside: '内側（データセンター）',
  outside: '外側',
  line: '回線',
  services: 'サービス',
  liveWorkers: '稼働中のワーカー {count}',
  noWorkers: '稼働中のワーカーなし',
  control: '制御チェック {check}: {state}',
  more: '他 {count} 件（{states}）',
  failing: '失敗中:',
  noneFailing: '失敗中のチェックはありません。',
  lineBroken: '回線の障害: {targets}',
  lineOk: '回線を原因とする接続先はありません。',
  lineBeyond:
    '回線は他の経路を通しています。外部からのみ失敗しているのは、回線の先の {targets} への経路です。',
  legend: '経路の状態:',
  'state.UP': '正常',
  'state.DEGRADED': '低下',
  'state.UNKNOWN': '不明',
  'state.DOWN': '停止',
  ...prefixKeys('verdict.', VERDICT_LABELS.ja.short),
  empty: 'チェックもジャーニーもまだ設定されていません。',
};

const TABLES: Record<MapLanguage, Record<MapMessageKey, string>> = { en, ja };

/** The message `key` in `language`, with `{name}` replaced by `values[name]`. */
export function mapMessage(
  language: MapLanguage,
  key: MapMessageKey,
  values: Record<string, string | number> = {},
): string {
  return fillIn(TABLES[language][key], values);
}

export function stateLabel(language: MapLanguage, state: CheckStateName): string {
  return mapMessage(language, `state.${state}`);
}

export function verdictLabel(language: MapLanguage, verdict: VerdictName): string {
  return mapMessage(language, `verdict.${verdict}`);
}
