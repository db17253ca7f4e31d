import { z } from 'zod';
import { checkSettings } from '../../checks/check-base.ts';
import { secretRef } from '../../config/secret-resolver.ts';
import { duration, identifier, regexSource, strictObject } from '../../config/zod-helpers.ts';
import { MAX_JOURNEY_TIMEOUT_MS } from '../load-journey.ts';

/**
 * One Playwright Test suite monitored as it is: every test its config lists (narrowed by
 * projects, grep and tags) becomes a journey. Settings here apply to all of its tests; a
 * test's `pathwatch` annotation overrides id, interval, locations and timeout.
 */
export const playwrightSuiteSchema = strictObject({
  config: z
    .string()
    .min(1)
    .describe("The suite's playwright.config.ts, relative to this config file. Required; must exist."),
  projects: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('Only these Playwright projects. Default every project of the suite.'),
  grep: regexSource()
    .optional()
    .describe('Only tests whose title matches this regular expression (as `--grep`). Default all.'),
  tags: z
    .array(z.string().regex(/^@\S+$/, { error: 'a tag starts with "@", e.g. "@smoke"' }))
    .min(1)
    .optional()
    .describe('Only tests with at least one of these tags (`@smoke`). Default all.'),
  interval: duration({ min: 10_000, max: 86_400_000 })
    .optional()
    .describe('How often each test runs, unless its annotation says. Default `defaults.interval`.'),
  locations: z
    .array(identifier('location'))
    .min(1)
    .optional()
    .describe('Where the tests run, unless an annotation says. Default `defaults.locations`.'),
  timeout: duration({ min: 5000, max: MAX_JOURNEY_TIMEOUT_MS })
    .optional()
    .describe(
      "Deadline of one run, runner start included; the child is killed past it. Playwright's own test timeout is set 5s below it. Default 60s.",
    ),
  retries: checkSettings
    .retries()
    .optional()
    .describe('Confirmation retries of a failed run. Default `defaults.retries`.'),
  secrets: z
    .record(
      z.string().regex(/^[A-Z][A-Z0-9_]*$/, { error: 'a secret name is UPPER_SNAKE_CASE' }),
      secretRef(),
    )
    .optional()
    .describe(
      'Secrets the tests read from their environment as `PATHWATCH_SECRET_<NAME>` (e.g. `{ SHOP_PASSWORD: "${env:SHOP_PASSWORD}" }`); masked in results and evidence. Default none.',
    ),
  params: z
    .record(z.string().regex(/^[A-Z][A-Z0-9_]*$/, { error: 'a param name is UPPER_SNAKE_CASE' }), z.string())
    .optional()
    .describe('Plain values the tests read as `PATHWATCH_PARAM_<NAME>`. Default none.'),
});

export type PlaywrightSuiteSettings = z.infer<typeof playwrightSuiteSchema>;
