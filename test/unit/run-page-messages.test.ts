import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JA_ACTIONS, MESSAGES } from '../../src/evidence/run-page/messages.ts';
import { pageLanguage } from '../../src/evidence/run-page/page-language.ts';
import { ERROR_CODES } from '../../src/results/error-codes.ts';

test('every error code has what to do in Japanese too', () => {
  const missing = Object.keys(ERROR_CODES).filter((code) => !JA_ACTIONS[code as keyof typeof ERROR_CODES]);
  assert.deepEqual(missing, [], 'add these codes to JA_ACTIONS in src/evidence/run-page/messages.ts');
});

test('both tables fill in the same values, and the Japanese one is in Japanese', () => {
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
  for (const [key, english] of Object.entries(MESSAGES.en)) {
    const japanese = MESSAGES.ja[key as keyof typeof MESSAGES.en];
    assert.deepEqual(placeholders(japanese), placeholders(english), key);
  }
  const untranslated = Object.entries(MESSAGES.ja).filter(
    ([key, text]) =>
      text === MESSAGES.en[key as keyof typeof MESSAGES.en] && /[a-z]{4,}/.test(text.replace(/\{\w+\}/g, '')),
  );
  assert.deepEqual(untranslated, []);
});

test('the language: ?lang first, then Accept-Language by weight, else English', () => {
  assert.equal(pageLanguage(undefined, undefined), 'en');
  assert.equal(pageLanguage('ja', 'en'), 'ja');
  assert.equal(pageLanguage(undefined, 'ja-JP,ja;q=0.9,en;q=0.8'), 'ja');
  assert.equal(pageLanguage(undefined, 'en;q=0.5, ja;q=0.8'), 'ja');
  assert.equal(pageLanguage(undefined, 'fr, de;q=0.9'), 'en');
  assert.equal(pageLanguage(undefined, 'ja;q=0, en'), 'en');
  assert.equal(pageLanguage(undefined, 'fr-CA, ja;q=0.3'), 'ja');
});
