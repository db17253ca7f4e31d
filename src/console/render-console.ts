import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { PageLanguage } from '../evidence/run-page/messages.ts';
import type { ConsoleTranslator } from './console-messages.ts';

/** The console's stylesheet and its one script, served under /assets/. */
export const CONSOLE_CSS_FILE = fileURLToPath(new URL('./console.css', import.meta.url));
export const CONSOLE_JS_FILE = fileURLToPath(new URL('./console.js', import.meta.url));
export const CONSOLE_CHECK_JS_FILE = fileURLToPath(new URL('./console-check.js', import.meta.url));
const require = createRequire(import.meta.url);
/** uPlot's browser build and stylesheet, from the installed package. */
export const UPLOT_JS_FILE = require.resolve('uplot/dist/uPlot.iife.min.js');
export const UPLOT_CSS_FILE = require.resolve('uplot/dist/uPlot.min.css');

// autoEscape: every `<%= %>` is HTML-escaped; `<%~ %>` only ever takes HTML these templates made.
const eta = new Eta({
  views: fileURLToPath(new URL('./templates', import.meta.url)),
  autoEscape: true,
  cache: true,
});

export interface ConsolePage {
  language: PageLanguage;
  t: ConsoleTranslator;
  pageTitle: string;
  nav: string;
  session?: { name: string; role: string };
  languageLinks: Array<{ href: string; label: string; current: boolean; language: PageLanguage }>;
}

/** A template's HTML alone (a fragment the page swaps in). */
export function renderFragment(template: string, data: object): string {
  return eta.render(`./${template}`, data);
}

/** A whole page: the layout around a template. */
export function renderConsolePage(page: ConsolePage, template: string, data: object): string {
  const body = eta.render(`./${template}`, { ...page, ...data });
  const { scripts, styles } = data as { scripts?: string[]; styles?: string[] };
  return eta.render('./layout', { ...page, body, scripts, styles });
}
