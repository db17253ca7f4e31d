import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import { type MessageKey, type PageLanguage, translatorFor } from './messages.ts';
import type { RunPageView } from './run-page-view.ts';

/** The stylesheet both pages link to, served by the API under /assets/. */
export const RUN_PAGE_CSS_FILE = fileURLToPath(new URL('./run-page.css', import.meta.url));

// autoEscape: every `<%= %>` is HTML-escaped; the templates never use the raw `<%~ %>`.
const eta = new Eta({
  views: fileURLToPath(new URL('./templates', import.meta.url)),
  autoEscape: true,
  cache: true,
});

/** The run page as HTML. */
export function renderRunPage(view: RunPageView): string {
  return eta.render('./run-page', view);
}

/** Codes the refusal page has its own words for; any other gets the general ones. */
const REFUSALS = [
  'LINK_EXPIRED',
  'LINK_INVALID',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'RUN_NOT_FOUND',
  'BAD_REQUEST',
];

export interface RefusalPage {
  language: PageLanguage;
  status: number;
  /** The API's error code and message (English, as the JSON API says it). */
  code: string;
  message: string;
  /** The same address in each language. */
  languageLinks: Array<{ href: string; label: string; current: boolean; language: PageLanguage }>;
}

/** A page that says, in the page's language, why the run page is not shown. */
export function renderRefusalPage(page: RefusalPage): string {
  const t = translatorFor(page.language);
  const which = REFUSALS.includes(page.code) ? page.code : 'other';
  return eta.render('./refusal-page', {
    ...page,
    title: t(`refusal.${which}.title` as MessageKey),
    text: t(`refusal.${which}.text` as MessageKey),
    detailLabel: t('refusalDetail'),
    status: t('refusalStatus', { status: page.status }),
  });
}
