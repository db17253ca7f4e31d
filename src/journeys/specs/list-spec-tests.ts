import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTempDir } from '../../util/process-temp-dir.ts';
import { playwrightTestCli } from './playwright-test-cli.ts';

/** Longest the suite's listing may take: it compiles the config and every spec file. */
export const LIST_DEADLINE_MS = 60_000;

/** One test of the suite as `playwright test --list` names it. */
export interface ListedSpecTest {
  /** Playwright Test's id of the test (file, titles and project): a warm worker runs it by this. */
  id: string;
  /** Playwright's id of the test's project, which a warm worker is started with. */
  projectId: string;
  file: string;
  /** The file relative to the suite's root dir, as Playwright names it (`checkout.spec.ts`). */
  relativeFile: string;
  line: number;
  /** From the file's describe blocks down to the test's own title. */
  titlePath: string[];
  project: string;
  tags: string[];
  annotations: Array<{ type: string; description?: string }>;
  /**
   * What of the suite needs Playwright Test's runner around each run of this test (global
   * setup or teardown, web servers, the project's dependencies): empty when a warm worker
   * can run it alone.
   */
  needsRunner: string[];
}

export interface ListSpecTestsOptions {
  projects?: string[];
  grep?: string;
  deadlineMs?: number;
}

/** What pathwatch-list-reporter.mjs writes. */
interface SpecListing {
  rootDir?: string;
  runnerFeatures?: string[];
  tests?: Array<Omit<ListedSpecTest, 'relativeFile' | 'needsRunner'> & { projectDependencies: string[] }>;
  errors?: string[];
}

/** pathwatch's list reporter, next to this file (plain JavaScript, as the run reporter). */
const LIST_REPORTER_PATH = join(dirname(fileURLToPath(import.meta.url)), 'pathwatch-list-reporter.mjs');

function firstLine(text: string): string {
  const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
  return (
    text
      .replace(ANSI, '')
      .split('\n')
      .map((line) => line.trim())
      .find(Boolean) ?? ''
  );
}

/**
 * Lists the suite's tests without running them: `playwright test --list` with pathwatch's
 * list reporter
 * in a child (Playwright Test compiles the config and specs itself), bounded by a deadline.
 * Throws one line naming the config and Playwright's first error line.
 */
export async function listSpecTests(
  configFile: string,
  options: ListSpecTestsOptions = {},
): Promise<ListedSpecTest[]> {
  const deadlineMs = options.deadlineMs ?? LIST_DEADLINE_MS;
  const dir = await mkdtemp(join(processTempDir(), 'spec-list-'));
  const output = join(dir, 'list.json');
  try {
    const args = [
      playwrightTestCli(),
      'test',
      '--list',
      `--reporter=${LIST_REPORTER_PATH}`,
      '-c',
      configFile,
    ];
    for (const project of options.projects ?? []) args.push(`--project=${project}`);
    if (options.grep !== undefined) args.push(`--grep=${options.grep}`);
    const { code, stderr, timedOut } = await new Promise<{
      code: number | null;
      stderr: string;
      timedOut: boolean;
    }>((resolve, reject) => {
      const child = spawn(process.execPath, args, {
        cwd: dirname(configFile),
        env: { ...process.env, PATHWATCH_LIST_FILE: output, FORCE_COLOR: '0' },
        stdio: ['ignore', 'ignore', 'pipe'],
        detached: true,
      });
      let stderrText = '';
      let expired = false;
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderrText.length < 65_536) stderrText += chunk.toString('utf8');
      });
      const timer = setTimeout(() => {
        expired = true;
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // already gone
        }
      }, deadlineMs);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (exitCode) => {
        clearTimeout(timer);
        resolve({ code: exitCode, stderr: stderrText, timedOut: expired });
      });
    });
    if (timedOut)
      throw new Error(
        `${configFile}: listing the tests took longer than ${deadlineMs / 1000} s (playwright test --list)`,
      );
    const text = await readFile(output, 'utf8').catch(() => undefined);
    let listing: SpecListing | undefined;
    try {
      listing = text === undefined ? undefined : (JSON.parse(text) as SpecListing);
    } catch {
      listing = undefined;
    }
    const listingError = listing?.errors?.find(Boolean);
    if (code !== 0 || !listing || listingError) {
      const why = firstLine(listingError ?? '') || firstLine(stderr) || `exit code ${code}`;
      throw new Error(`${configFile}: playwright test --list failed: ${why}`);
    }
    const rootDir = listing.rootDir ?? dirname(configFile);
    return (listing.tests ?? []).map(({ projectDependencies, ...test }) => ({
      ...test,
      relativeFile: relative(rootDir, test.file),
      needsRunner: [
        ...(listing.runnerFeatures ?? []),
        ...(projectDependencies.length > 0
          ? [`project dependencies (${projectDependencies.join(', ')})`]
          : []),
      ],
    }));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
