import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** What pathwatch overrides in the suite's config for one monitored run. */
export interface SpecWrapperSettings {
  /** The suite's own playwright.config.ts (absolute). */
  userConfig: string;
  /** Where Playwright writes this run's trace, screenshot and test output. */
  outputDir: string;
  /**
   * Where pathwatch's reporter appends the run's events (spec-events.ts), under Playwright
   * Test's runner. A warm worker (spec-worker.ts) has no reporter: its events come over IPC.
   */
  eventsFile?: string;
  /**
   * Playwright Test's trace mode for the run (pathwatch decides afterwards whether a written
   * trace is kept), and whether the trace holds screenshots (`traceScreenshots`); DOM
   * snapshots and sources it always holds.
   */
  trace: { mode: 'on' | 'off' | 'retain-on-failure'; screenshots: boolean };
  /** Record a HAR here when the run is not traced (a traced run's HAR comes from its trace). */
  harPath?: string;
  /** Playwright's test timeout: below the hard deadline, so the trace is still written. */
  testTimeoutMs: number;
  executablePath?: string;
  /** Chromium arguments, pathwatch's (browser settings) then the worker's extra ones. */
  args: string[];
  headless: boolean;
}

/**
 * The reporter module, next to this file. Plain JavaScript: Playwright compiles no TypeScript
 * under node_modules, where a QA repository's pathwatch is installed (ERR_UNKNOWN_FILE_EXTENSION).
 */
export const SPEC_REPORTER_PATH = join(
  dirname(fileURLToPath(import.meta.url)),
  'pathwatch-spec-reporter.mjs',
);

/**
 * Writes a config that imports the suite's own config and changes only what monitoring
 * needs: one worker, no retries (pathwatch retries), pathwatch's reporter, the run's output
 * dir, pathwatch's trace mode, a failure screenshot, and Chromium as pathwatch launches it.
 * Everything else (baseURL, storageState, viewport, httpCredentials, fixtures, hooks,
 * `expect` settings) is the suite's. The wrapper lives in the run's temp dir, not the
 * suite's folder, so the paths Playwright resolves from a config's own folder (testDir,
 * snapshotDir, tsconfig, globalSetup, webServer.cwd) are made absolute against the suite's.
 * It holds no secret: those reach the spec through its environment.
 */
export async function writeSpecWrapperConfig(file: string, settings: SpecWrapperSettings): Promise<void> {
  const userDir = dirname(settings.userConfig);
  const text = `// Written by pathwatch for one run; removed with the run's temp dir.
import { resolve } from 'node:path';
import imported from ${JSON.stringify(pathToFileURL(settings.userConfig).href)};

const settings = ${JSON.stringify({ ...settings, userDir, reporter: SPEC_REPORTER_PATH })};
const user = imported && imported.default && !imported.projects && !imported.use ? imported.default : imported ?? {};
const local = (path) => (typeof path === 'string' && /^\\.\\.?[\\\\/]|^\\.\\.?$/.test(path) ? resolve(settings.userDir, path) : path);
const absolute = (path) => (typeof path === 'string' ? resolve(settings.userDir, path) : path);

function monitoredUse(use) {
  const launchOptions = (use && use.launchOptions) || {};
  return {
    ...use,
    trace: { ...settings.trace, snapshots: true, sources: true },
    screenshot: 'only-on-failure',
    video: 'off',
    headless: settings.headless,
    ...(settings.harPath ? { contextOptions: { ...(use && use.contextOptions), recordHar: { path: settings.harPath, content: 'omit' } } } : {}),
    launchOptions: {
      ...launchOptions,
      ...(settings.executablePath ? { executablePath: settings.executablePath } : {}),
      args: [...(launchOptions.args || []), ...settings.args],
    },
  };
}

function monitoredProject(project) {
  return {
    ...project,
    ...(project.testDir !== undefined ? { testDir: absolute(project.testDir) } : {}),
    ...(project.snapshotDir !== undefined ? { snapshotDir: absolute(project.snapshotDir) } : {}),
    outputDir: settings.outputDir,
    retries: 0,
    repeatEach: 1,
    ...(project.use ? { use: monitoredUse(project.use) } : {}),
  };
}

const webServers = user.webServer === undefined ? undefined : [user.webServer].flat().map((server) => ({ ...server, cwd: absolute(server.cwd ?? '.') }));
const scripts = (value) => (value === undefined ? undefined : Array.isArray(value) ? value.map(local) : local(value));

export default {
  ...user,
  testDir: absolute(user.testDir ?? '.'),
  ...(user.snapshotDir !== undefined ? { snapshotDir: absolute(user.snapshotDir) } : {}),
  ...(user.tsconfig !== undefined ? { tsconfig: absolute(user.tsconfig) } : {}),
  ...(user.globalSetup !== undefined ? { globalSetup: scripts(user.globalSetup) } : {}),
  ...(user.globalTeardown !== undefined ? { globalTeardown: scripts(user.globalTeardown) } : {}),
  ...(webServers ? { webServer: webServers } : {}),
  workers: 1,
  retries: 0,
  repeatEach: 1,
  maxFailures: 0,
  fullyParallel: false,
  timeout: Math.min(user.timeout || settings.testTimeoutMs, settings.testTimeoutMs),
  outputDir: settings.outputDir,
  reporter: settings.eventsFile ? [[settings.reporter, { eventsFile: settings.eventsFile }]] : [],
  use: monitoredUse(user.use || {}),
  ...(user.projects ? { projects: user.projects.map(monitoredProject) } : {}),
};
`;
  await writeFile(file, text);
}
