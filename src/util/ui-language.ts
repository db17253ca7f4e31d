/** The languages pathwatch's pages and mails are written in (run page, console, map, alert mail). */
export const UI_LANGUAGES = ['en', 'ja'] as const;
export type UiLanguage = (typeof UI_LANGUAGES)[number];
