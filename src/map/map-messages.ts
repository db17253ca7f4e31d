import type { CheckStateName } from '../results/state-store.ts';
import type { VerdictName } from '../results/verdict.ts';
import { VERDICT_LABELS } from '../results/verdict-labels.ts';
import { fillIn } from '../util/fill-in.ts';
import { prefixKeys } from '../util/prefix-keys.ts';
import { UI_LANGUAGES, type UiLanguage } from '../util/ui-language.ts';
import enTexts from './messages/en.json' with { type: 'json' };
import jaTexts from './messages/ja.json' with { type: 'json' };

/** The languages the map is drawn in. */
export const MAP_LANGUAGES = UI_LANGUAGES;
export type MapLanguage = UiLanguage;

/**
 * Every word the map draws: the texts are data, one file a language (messages/*.json, `{name}`
 * filled in by fillIn()), so translators edit no code; the verdict words come from the shared
 * labels. The Japanese table must have every key of the English one (the type says so).
 */
const en = { ...enTexts, ...prefixKeys('verdict.', VERDICT_LABELS.en.short) };

export type MapMessageKey = keyof typeof en;

const ja: Record<MapMessageKey, string> = { ...jaTexts, ...prefixKeys('verdict.', VERDICT_LABELS.ja.short) };

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
