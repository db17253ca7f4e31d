import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The Playwright versions whose worker protocol pathwatch drives (spec-worker.ts): the
 * worker process entry, its `__init__`/`runTestGroup`/`__stop__` messages and the events
 * it sends back are Playwright Test's internals, not its public API, so a version outside
 * this list runs each test under Playwright Test's own runner instead.
 */
const WARM_WORKER_VERSIONS = /^1\.65\./;

export interface PlaywrightWorkerEntry {
  /** Playwright Test's worker process script. */
  script: string;
  version: string;
}

let resolved: PlaywrightWorkerEntry | { unsupported: string } | undefined;

/**
 * The worker process script of the Playwright Test this pathwatch runs specs with (the one
 * `@playwright/test` resolves to, so that a spec's `test()` registers with that worker), or
 * why it cannot be driven warm.
 */
export function playwrightWorkerEntry(): PlaywrightWorkerEntry | { unsupported: string } {
  if (resolved) return resolved;
  try {
    const fromTest = createRequire(createRequire(import.meta.url).resolve('@playwright/test/package.json'));
    const packageJson = fromTest.resolve('playwright/package.json');
    const version = (fromTest(packageJson) as { version: string }).version;
    resolved = WARM_WORKER_VERSIONS.test(version)
      ? { script: join(dirname(packageJson), 'lib', 'worker', 'workerProcessEntry.js'), version }
      : {
          unsupported: `Playwright ${version} is not a version whose worker pathwatch keeps warm (${WARM_WORKER_VERSIONS.source})`,
        };
  } catch (error) {
    resolved = { unsupported: `Playwright Test's worker was not found: ${(error as Error).message}` };
  }
  return resolved;
}
