import { prefixKeys } from '../util/prefix-keys.ts';
import type { UiLanguage } from '../util/ui-language.ts';
import { PHASE_LABELS } from './phase-labels.ts';
import { VERDICT_LABELS } from './verdict-labels.ts';

/**
 * The sentence of each failing verdict under `verdict.<name>` and each phase's name under
 * `phase.<name>`, in `language`: the part of their message tables that the alert mail and the
 * run page, which both explain one failed run, take in from the shared labels.
 */
export function verdictAndPhaseLabels(language: UiLanguage) {
  return {
    ...prefixKeys('verdict.', VERDICT_LABELS[language].sentence),
    ...prefixKeys('phase.', PHASE_LABELS[language]),
  };
}
