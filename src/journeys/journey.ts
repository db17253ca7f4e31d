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
  /** Deadline for the whole run, e.g. `"60s"` (at most `10m`); default `"60s"`. */
  timeout?: string;
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
