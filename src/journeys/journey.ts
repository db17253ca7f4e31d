import type { expect as playwrightExpect } from '@playwright/test';
import type { BrowserContext, Page } from 'playwright';

/** Options of one step. */
export interface StepOptions {
  /**
   * Longest the step may take, as a duration (`"15s"`) or milliseconds. Default: whatever
   * is left of the journey's timeout.
   */
  timeout?: string | number;
}

/**
 * Runs `body` as a named step: timed, shown as a group in the trace viewer, and named in
 * the error when it fails (`journey "checkout" step 4 "pay": …`).
 */
export type StepFunction = <T>(name: string, body: () => Promise<T>, options?: StepOptions) => Promise<T>;

/** What a journey's body receives. */
export interface JourneyContext<Params extends Record<string, unknown> = Record<string, unknown>> {
  /** A fresh page in a fresh browser context, for this run only. */
  page: Page;
  /** The run's browser context (cookies, storage, extra pages). */
  context: BrowserContext;
  step: StepFunction;
  /** Playwright's web-first assertions, as in Playwright Test: `await expect(locator).toBeVisible()`. */
  expect: typeof playwrightExpect;
  /** The journey's `secrets`, resolved; their values are masked in every result, log and HAR. */
  secrets: Record<string, string>;
  /** The journey's `params`. */
  params: Params;
  /**
   * Aborted when the run is cut (its timeout, a worker stop, a browser crash). Playwright
   * calls fail by themselves then (the page is closed); pass it to anything else the body
   * waits on (`fetch(url, { signal })`), so the body ends with its run.
   */
  signal: AbortSignal;
}

/**
 * How the run's browser context is made, with Playwright's own option names (as in
 * Playwright Test's `use`). Unset options keep Playwright's defaults.
 */
export interface JourneyContextOptions {
  /** Prefix of relative URLs in `page.goto('/cart')` and `page.request.get('/api')`, e.g. `"https://shop.example"`. */
  baseURL?: string;
  /**
   * Cookies and local storage the context starts with: a file written by
   * `context.storageState({ path })`, relative to the journey file (checked at load), or the object itself.
   */
  storageState?: string | JourneyStorageState;
  /** Page size in CSS pixels; default 1280×720. */
  viewport?: { width: number; height: number };
  /** `navigator.language` and `Accept-Language`, e.g. `"de-DE"`; default the browser's. */
  locale?: string;
  /** Time zone of the page, e.g. `"Europe/Berlin"`; default the machine's. */
  timezoneId?: string;
  /**
   * HTTP authentication (basic) answered for every origin. The password is a secret
   * reference (`"${env:SHOP_BASIC_PASSWORD}"`), masked in results and evidence.
   */
  httpCredentials?: { username: string; password: string };
  /**
   * Headers sent with every request of the context. A value may hold secret references
   * (`"Bearer ${env:API_TOKEN}"`): the resolved value is masked like a secret.
   */
  extraHTTPHeaders?: Record<string, string>;
}

/** Playwright's storage state object (`context.storageState()`'s result). */
export interface JourneyStorageState {
  cookies: Array<{
    name: string;
    value: string;
    domain: string;
    path: string;
    expires: number;
    httpOnly: boolean;
    secure: boolean;
    sameSite: 'Strict' | 'Lax' | 'None';
  }>;
  origins: Array<{ origin: string; localStorage: Array<{ name: string; value: string }> }>;
}

/** A journey as QA write it in `journeys/<name>.journey.ts`. */
export interface JourneyDefinition<Params extends Record<string, unknown> = Record<string, unknown>> {
  /** Stable id: used in keys, URLs and alert subjects (letters, digits, `-`, `_`, `.`). */
  id: string;
  /** Human name for pages and emails; default: the id. */
  name?: string;
  /** How often it runs, e.g. `"5m"`; default: the config's `defaults.interval`. */
  interval?: string;
  /** Locations it runs from; default: the config's default locations. */
  locations?: string[];
  /** Deadline for the whole run, e.g. `"60s"` (at most `10m`); default `"60s"` (not `defaults.timeout`). */
  timeout?: string;
  /** A disabled journey is validated but never scheduled; default true. */
  enabled?: boolean;
  /** Failed runs tried again at once before one counts (0–5); default: the config's `defaults.retries`. */
  retries?: number;
  /** Pause before each retry, e.g. `"5s"` (at most `60s`); default: `defaults.retryDelay`. */
  retryDelay?: string;
  /** Counted failures in a row that make it DOWN at a location (1–100); default: `defaults.downAfter`. */
  downAfter?: number;
  /** Passes in a row that make it UP again (1–100); default: `defaults.upAfter`. */
  upAfter?: number;
  tags?: string[];
  /** Plain values the body reads, e.g. the base URL. Never secrets: use `secrets`. */
  params?: Params;
  /** Name → secret reference (`"${env:SHOP_PASSWORD}"`); the body gets the values in `secrets`. */
  secrets?: Record<string, string>;
  /** Options of the run's browser context: baseURL, storageState, viewport, locale, … */
  use?: JourneyContextOptions;
  /** The customer's path, step by step. */
  run(context: JourneyContext<Params>): Promise<void>;
}

/**
 * Marks a journey definition (typed, so editors complete every option) for export. A file
 * may export several: `export default [journey({…}), journey({…})]`, named exports, or
 * `journey.each(list, (p) => ({ id: `login-${p.region}`, params: p, … }))`.
 */
export function journey<Params extends Record<string, unknown> = Record<string, unknown>>(
  definition: JourneyDefinition<Params>,
): JourneyDefinition<Params> {
  return definition;
}

/**
 * One journey per entry of `list`: a parameterised journey. Each must get its own `id`
 * (ids are unique across all journeys), e.g. `` id: `login-${p.region}` ``.
 */
journey.each = <Item, Params extends Record<string, unknown> = Record<string, unknown>>(
  list: readonly Item[],
  make: (item: Item, index: number) => JourneyDefinition<Params>,
): JourneyDefinition<Params>[] => list.map((item, index) => make(item, index));
