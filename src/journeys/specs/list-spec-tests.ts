import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { processTempDir } from '../../util/process-temp-dir.ts';
import { playwrightTestCli } from './playwright-test-cli.ts';

/** Longest the suite's listing may take: it compiles the config and every spec file. */
export const LIST_DEADLINE_MS = 60_000;

/** One test of the suite as `playwright test --list` names it. */
export interface ListedSpecTest {
  file: string;
  /** The file relative to the suite's test dir, as Playwright names it (`checkout.spec.ts`). */
  relativeFile: string;
  line: number;
  /** From the file's describe blocks down to the test's own title. */
  titlePath: string[];
  project: string;
  tags: string[];
  annotations: Array<{ type: string; description?: string }>;
}

export interface ListSpecTestsOptions {
  projects?: string[];
  grep?: string;
  deadlineMs?: number;
}

interface JsonSuite {
  title: string;
  file?: string;
  specs?: Array<{
    title: string;
    file: string;
    line: number;
    tags?: string[];
    tests: Array<{ projectName: string; annotations?: Array<{ type: string; description?: string }> }>;
  }>;
  suites?: JsonSuite[];
}

interface JsonReport {
  config?: { rootDir?: string };
  suites?: JsonSuite[];
  errors?: Array<{ message?: string }>;
}

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
 * Lists the suite's tests without running them: `playwright test --list --reporter=json`
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
    const args = [playwrightTestCli(), 'test', '--list', '--reporter=json', '-c', configFile];
    for (const project of options.projects ?? []) args.push(`--project=${project}`);
    if (options.grep !== undefined) args.push(`--grep=${options.grep}`);
    const { code, stderr, timedOut } = await new Promise<{
      code: number | null;
      stderr: string;
      timedOut: boolean;
    }>((resolve, reject) => {
      const child = spawn(process.execPath, args, {
        cwd: dirname(configFile),
        env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: output, FORCE_COLOR: '0' },
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
    let report: JsonReport | undefined;
    try {
      report = text === undefined ? undefined : (JSON.parse(text) as JsonReport);
    } catch {
      report = undefined;
    }
    const reportError = report?.errors?.find((error) => error.message)?.message;
    if (code !== 0 || !report || reportError) {
      const why = firstLine(reportError ?? '') || firstLine(stderr) || `exit code ${code}`;
      throw new Error(`${configFile}: playwright test --list failed: ${why}`);
    }
    const rootDir = report.config?.rootDir ?? dirname(configFile);
    const tests: ListedSpecTest[] = [];
    const walk = (suite: JsonSuite, titles: string[]) => {
      for (const spec of suite.specs ?? []) {
        for (const test of spec.tests) {
          tests.push({
            file: join(rootDir, spec.file),
            relativeFile: spec.file,
            line: spec.line,
            titlePath: [...titles, spec.title],
            project: test.projectName,
            tags: spec.tags ?? [],
            annotations: test.annotations ?? [],
          });
        }
      }
      for (const child of suite.suites ?? []) walk(child, [...titles, child.title]);
    };
    // A file's top suite is titled by the file: its describe blocks start below it.
    for (const fileSuite of report.suites ?? []) walk(fileSuite, []);
    return tests;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
