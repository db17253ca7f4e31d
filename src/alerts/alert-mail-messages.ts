import type { AlertLanguage } from '../config/alerting-schema.ts';
import { verdictAndPhaseLabels } from '../results/verdict-and-phase-labels.ts';
import { fillIn } from '../util/fill-in.ts';
import enTexts from './alert-mail-messages/en.json' with { type: 'json' };
import jaTexts from './alert-mail-messages/ja.json' with { type: 'json' };

/**
 * Every string an alert mail shows: the texts are data, one file a language
 * (alert-mail-messages/*.json, `{name}` filled in by fillIn()), so translators edit no code;
 * verdict sentences and phase names come from the shared labels. The Japanese table must have
 * every key of the English one (the type says so). Check names, locations, error codes and
 * messages are shown as they are, in either language.
 */
const en = { ...enTexts, ...verdictAndPhaseLabels('en') };

export type AlertMessageKey = keyof typeof en;

const ja: Record<AlertMessageKey, string> = { ...jaTexts, ...verdictAndPhaseLabels('ja') };

const TABLES: Record<AlertLanguage, Record<AlertMessageKey, string>> = { en, ja };

/** A translator for one language: `t('headline.up', { check, duration })`. */
export function alertTranslator(language: AlertLanguage) {
  const table = TABLES[language];
  return (key: AlertMessageKey, values?: Record<string, string | number>) => fillIn(table[key], values);
}

export type AlertTranslate = ReturnType<typeof alertTranslator>;

/** Both tables, for the test that every key is translated. */
export const ALERT_MESSAGES = TABLES;
