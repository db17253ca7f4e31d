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
  /** The customer's path, step by step. */
  run(context: JourneyContext<Params>): Promise<void>;
}

/** Marks a journey definition (typed, so editors complete every option) for export. */
export function journey<Params extends Record<string, unknown> = Record<string, unknown>>(
  definition: JourneyDefinition<Params>,
): JourneyDefinition<Params> {
  return definition;
}
