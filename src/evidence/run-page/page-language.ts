import { PAGE_LANGUAGES, type PageLanguage } from './messages.ts';

function isPageLanguage(value: string): value is PageLanguage {
  return (PAGE_LANGUAGES as readonly string[]).includes(value);
}

/**
 * The page's language: `?lang=` when given, else the first language of Accept-Language
 * (by q value, then order) that the page is written in, else English.
 */
export function pageLanguage(asked: string | undefined, acceptLanguage: string | undefined): PageLanguage {
  if (asked !== undefined && isPageLanguage(asked)) return asked;
  const ranked = (acceptLanguage ?? '')
    .slice(0, 500)
    .split(',')
    .map((part, order) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((param) => /^\s*q=([0-9.]+)\s*$/.exec(param)?.[1]).find(Boolean);
      return { base: tag.trim().toLowerCase().split('-')[0], q: q === undefined ? 1 : Number(q), order };
    })
    .filter((entry) => entry.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  return ranked.map((entry) => entry.base).find(isPageLanguage) ?? 'en';
}
