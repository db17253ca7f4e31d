import type { PageLanguage } from '../evidence/run-page/messages.ts';
import { VERDICT_LABELS } from '../results/verdict-labels.ts';
import { fillIn } from '../util/fill-in.ts';
import { prefixKeys } from '../util/prefix-keys.ts';
import enTexts from './messages/en.json' with { type: 'json' };
import jaTexts from './messages/ja.json' with { type: 'json' };

/**
 * Every word the console's pages show: the texts are data, one file a language
 * (messages/*.json, `{name}` filled in by fillIn()), so translators edit no code; the verdict
 * phrases come from the shared labels. The Japanese table must have every key of the English
 * one (the type says so).
 */
const EN = { ...enTexts, ...prefixKeys('verdict_', VERDICT_LABELS.en.phrase) };

export type ConsoleMessageKey = keyof typeof EN;

const JA: Record<ConsoleMessageKey, string> = {
  ...jaTexts,
  ...prefixKeys('verdict_', VERDICT_LABELS.ja.phrase),
};

const TABLES: Record<PageLanguage, Record<ConsoleMessageKey, string>> = { en: EN, ja: JA };

export type ConsoleTranslator = (key: ConsoleMessageKey, values?: Record<string, string | number>) => string;

/** `t('since', { time })`: the message in the page's language, `{name}` filled in. */
export function consoleTranslator(language: PageLanguage): ConsoleTranslator {
  const table = TABLES[language];
  return (key, values) => fillIn(table[key], values);
}
