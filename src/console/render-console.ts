import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance } from 'fastify';
import type { PageLanguage } from '../evidence/run-page/messages.ts';
import type { ConsoleTranslator } from './console-messages.ts';

const CONSOLE_DIR = fileURLToPath(new URL('.', import.meta.url));
/** uPlot's browser build and stylesheet, from the installed package (no CDN). */
const UPLOT_DIR = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

/**
 * Every file the console serves under /assets/: the allow-list. Only these have a route, so
 * nothing else in these folders (the console's sources, its templates, the rest of the uPlot
 * package) can be asked for. uPlot's URLs are lower case, as pages have always linked them.
 */
export const CONSOLE_ASSETS: ReadonlyArray<{ url: string; root: string; file: string; type: string }> = [
  { url: '/assets/console.css', root: CONSOLE_DIR, file: 'console.css', type: 'text/css; charset=utf-8' },
  {
    url: '/assets/console.js',
    root: CONSOLE_DIR,
    file: 'console.js',
    type: 'text/javascript; charset=utf-8',
  },
  {
    url: '/assets/console-check.js',
    root: CONSOLE_DIR,
    file: 'console-check.js',
    type: 'text/javascript; charset=utf-8',
  },
  {
    url: '/assets/uplot.iife.min.js',
    root: UPLOT_DIR,
    file: 'uPlot.iife.min.js',
    type: 'text/javascript; charset=utf-8',
  },
  { url: '/assets/uplot.min.css', root: UPLOT_DIR, file: 'uPlot.min.css', type: 'text/css; charset=utf-8' },
];

const TEMPLATES_DIR = fileURLToPath(new URL('./templates', import.meta.url));

/**
 * The console's templates through @fastify/view (Eta): `production` keeps each compiled
 * template in memory instead of reading its file on every page. autoEscape: every `<%= %>` is
 * HTML-escaped; `<%~ %>` only ever takes HTML these templates made. Registered inside the
 * console's plugin, so `view` exists there alone.
 */
export async function registerConsoleViews(app: FastifyInstance): Promise<void> {
  await app.register(fastifyView, {
    engine: { eta: new Eta({ autoEscape: true, cache: true }) },
    templates: TEMPLATES_DIR,
    production: true,
  });
}

export interface ConsolePage {
  language: PageLanguage;
  t: ConsoleTranslator;
  pageTitle: string;
  nav: string;
  session?: { name: string; role: string };
  languageLinks: Array<{ href: string; label: string; current: boolean; language: PageLanguage }>;
}

/** A template's HTML alone (a fragment the page swaps in). */
export function renderFragment(app: FastifyInstance, template: string, data: object): Promise<string> {
  return app.view(template, data);
}

/** A whole page: the layout around a template (its `scripts` and `styles` go in the head). */
export function renderConsolePage(
  app: FastifyInstance,
  page: ConsolePage,
  template: string,
  data: object,
): Promise<string> {
  return app.view(template, { ...page, ...data }, { layout: 'layout' });
}
