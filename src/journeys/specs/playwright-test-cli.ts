import { createRequire } from 'node:module';

/** The @playwright/test command line this pathwatch depends on (same version as `playwright`). */
export function playwrightTestCli(): string {
  return createRequire(import.meta.url).resolve('@playwright/test/cli');
}
