import { existsSync } from 'node:fs';
import { z } from 'zod';
import { strictObject } from '../config/zod-helpers.ts';

/**
 * Flags that let Debian's Chromium run headless as root without reaching for Google's
 * services (this network is closed; those look-ups are noise in a capture).
 */
export const DEFAULT_CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Debian's Chromium; elsewhere Playwright's own build is the fallback. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export const browserSettingsSchema = strictObject({
  executablePath: z
    .string()
    .optional()
    .describe("Chromium binary. Default /usr/bin/chromium when present, else Playwright's own."),
  args: z
    .array(z.string())
    .optional()
    .describe(
      'Launch arguments; production flags are configuration. Default: headless-as-root flags without Google services.',
    ),
  headless: z.boolean().default(true).describe('Run Chromium without a window. Default true.'),
  recycleAfterRuns: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .default(50)
    .describe(
      'Relaunch the browser after this many runs, so a slow leak in Chromium cannot grow. Default 50.',
    ),
  trace: z
    .enum(['on', 'retain-on-failure', 'on-first-retry', 'off'])
    .default('retain-on-failure')
    .describe(
      'Keep the Playwright trace: always (`on`); only when the run fails (`retain-on-failure`: recorded every run, ~10-15% more CPU); only on the confirmation retry of a failed run (`on-first-retry`: first attempts run untraced); or never (`off`). Default `retain-on-failure`.',
    ),
  traceScreenshots: z
    .boolean()
    .default(false)
    .describe(
      'Add the screencast to traces (costs ~15% CPU a run; DOM snapshots are always kept). Default false.',
    ),
  har: z
    .boolean()
    .default(true)
    .describe('Record a HAR of every run (cookies, auth headers and secrets masked). Default true.'),
  screenshots: z
    .enum(['on-failure', 'every-step'])
    .default('on-failure')
    .describe('Screenshot at the failing step (`on-failure`) or after every step. Default `on-failure`.'),
});
export type BrowserSettings = z.output<typeof browserSettingsSchema>;

export const DEFAULT_BROWSER_SETTINGS: BrowserSettings = browserSettingsSchema.parse({});

export function resolveExecutablePath(settings: BrowserSettings): string | undefined {
  if (settings.executablePath) return settings.executablePath;
  return existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : undefined;
}
