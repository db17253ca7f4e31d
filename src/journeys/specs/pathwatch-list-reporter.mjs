// Plain JavaScript for the reason pathwatch-spec-reporter.mjs is: Playwright Test loads it
// from where pathwatch is installed, and compiles no TypeScript under node_modules.
// What it writes is typed in list-spec-tests.ts (SpecListing).
import { writeFileSync } from 'node:fs';

/** @param {import('@playwright/test/reporter').TestError} error */
function messageOf(error) {
  return error.message ?? error.value ?? 'unknown error';
}

/**
 * Writes the listed suite (`playwright test --list`) to the file named by PATHWATCH_LIST_FILE
 * (a reporter given on the command line gets no options): each
 * test with the id Playwright Test gives it (a warm worker is asked to run it by that id),
 * its project, file, line, titles, tags and annotations, and what of the suite needs
 * Playwright Test's runner around a run (global setup, web servers, project dependencies).
 * @implements {import('@playwright/test/reporter').Reporter}
 */
export default class PathwatchListReporter {
  constructor() {
    this.file = process.env.PATHWATCH_LIST_FILE;
    /** @type {string[]} */
    this.errors = [];
  }

  printsToStdio() {
    return false;
  }

  /**
   * @param {import('@playwright/test/reporter').FullConfig} config
   * @param {import('@playwright/test/reporter').Suite} root
   */
  onBegin(config, root) {
    const runnerFeatures = [];
    if (config.globalSetup) runnerFeatures.push('globalSetup');
    if (config.globalTeardown) runnerFeatures.push('globalTeardown');
    if (config.webServer) runnerFeatures.push('webServer');
    this.listing = {
      rootDir: config.rootDir,
      runnerFeatures,
      tests: root.allTests().map((test) => {
        const project = test.parent.project();
        const titles = [];
        for (let suite = test.parent; suite && suite.type === 'describe'; suite = suite.parent)
          titles.unshift(suite.title);
        return {
          id: test.id,
          // Playwright's own project id (the name, numbered when names repeat), which its
          // worker process is started with; the name where a version does not expose it.
          projectId: project?.__projectId ?? project?.name ?? '',
          project: project?.name ?? '',
          projectDependencies: [
            ...(project?.dependencies ?? []),
            ...(project?.teardown ? [project.teardown] : []),
          ],
          file: test.location.file,
          line: test.location.line,
          titlePath: [...titles, test.title],
          tags: test.tags,
          annotations: test.annotations.map(({ type, description }) => ({ type, description })),
        };
      }),
    };
  }

  /** @param {import('@playwright/test/reporter').TestError} error */
  onError(error) {
    this.errors.push(messageOf(error));
  }

  onEnd() {
    if (this.file)
      writeFileSync(this.file, JSON.stringify({ ...(this.listing ?? { tests: [] }), errors: this.errors }));
  }
}
