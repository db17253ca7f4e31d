import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright';
import { type BrowserSettings, DEFAULT_CHROMIUM_ARGS, resolveExecutablePath } from './browser-settings.ts';

const TRACES_DIR_PREFIX = 'pathwatch-traces-';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A worker killed outright (SIGKILL, OOM) cannot remove its traces directory, and the raw
 * trace files in it hold cookies and typed values before redaction. The next pool to
 * launch a browser removes the directories whose owning process is gone.
 */
async function removeTracesDirsOfDeadProcesses(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  await Promise.all(
    names.map(async (name) => {
      const owner = new RegExp(`^${TRACES_DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
      if (owner && !isAlive(Number(owner)))
        await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => {});
    }),
  );
}

export interface BrowserPoolOptions {
  settings: BrowserSettings;
  /** Appended to the configured arguments (tests add --host-resolver-rules). */
  extraArgs?: string[];
}

/**
 * One Chromium per worker, shared by its runs (each gets a fresh context): launching costs
 * 150–360 ms and a context is cheap. The browser is relaunched when it dies and recycled
 * after `recycleAfterRuns`, once no run is using it.
 */
export class BrowserPool {
  private browser: Browser | undefined;
  private launching: Promise<Browser> | undefined;
  private runsOnBrowser = 0;
  private active = 0;
  private closed = false;
  private readonly tracesDirs = new WeakMap<Browser, string>();
  private readonly tracesDirRemovals = new Set<Promise<void>>();

  constructor(private readonly options: BrowserPoolOptions) {}

  /** A connected browser for one run; call `release` when the run is over. */
  async acquire(): Promise<Browser> {
    if (this.closed) throw new Error('browser pool is closed');
    if (this.browser?.isConnected()) {
      this.active++;
      return this.browser;
    }
    this.launching ??= this.launch().finally(() => {
      this.launching = undefined;
    });
    const browser = await this.launching;
    this.active++;
    return browser;
  }

  /**
   * Where `browser` keeps the files of traces being recorded (Playwright's `tracesDir`):
   * a run reads its trace's network log from here. Removed when the browser goes.
   */
  tracesDirOf(browser: Browser): string | undefined {
    return this.tracesDirs.get(browser);
  }

  async release(browser: Browser): Promise<void> {
    this.active--;
    if (browser !== this.browser) return;
    this.runsOnBrowser++;
    if (this.runsOnBrowser >= this.options.settings.recycleAfterRuns && this.active === 0) {
      this.browser = undefined;
      await browser.close().catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const browser = this.browser ?? (await this.launching?.catch(() => undefined));
    this.browser = undefined;
    await browser?.close().catch(() => {});
    await Promise.all(this.tracesDirRemovals);
  }

  private async launch(): Promise<Browser> {
    const { settings } = this.options;
    await removeTracesDirsOfDeadProcesses();
    const tracesDir = await mkdtemp(join(tmpdir(), `${TRACES_DIR_PREFIX}${process.pid}-`));
    let browser: Browser;
    try {
      browser = await chromium.launch({
        executablePath: resolveExecutablePath(settings),
        headless: settings.headless,
        args: [...(settings.args ?? DEFAULT_CHROMIUM_ARGS), ...(this.options.extraArgs ?? [])],
        tracesDir,
      });
    } catch (error) {
      await rm(tracesDir, { recursive: true, force: true });
      throw error;
    }
    this.browser = browser;
    this.tracesDirs.set(browser, tracesDir);
    this.runsOnBrowser = 0;
    browser.on('disconnected', () => {
      if (this.browser === browser) this.browser = undefined;
      // Playwright leaves a given tracesDir in place; trace resources would pile up.
      const removal: Promise<void> = rm(tracesDir, { recursive: true, force: true })
        .catch(() => {})
        .finally(() => this.tracesDirRemovals.delete(removal));
      this.tracesDirRemovals.add(removal);
    });
    if (this.closed) {
      await browser.close();
      throw new Error('browser pool is closed');
    }
    return browser;
  }
}
