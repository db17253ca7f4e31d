import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright';
import { processTempDir } from '../util/process-temp-dir.ts';
import { sweepOrphanTempDirs } from '../util/sweep-orphan-temp-dirs.ts';
import { type BrowserSettings, DEFAULT_CHROMIUM_ARGS, resolveExecutablePath } from './browser-settings.ts';

let tmpdirRedirects = 0;
let tmpdirBeforeRedirect: string | undefined;

/**
 * Playwright creates the browser's profile (`playwright_chromiumdev_profile-*`) with
 * os.tmpdir() of this process and offers no option for it outside persistent contexts.
 * Pointing TMPDIR at this process's temp dir while it launches puts the profile there, so
 * that a worker killed outright leaves it where the next worker's sweep finds it. Only
 * launches change it, always to the same directory, so overlapping launches agree.
 */
async function withTmpdirInProcessTempDir<T>(launch: () => Promise<T>): Promise<T> {
  if (tmpdirRedirects++ === 0) {
    tmpdirBeforeRedirect = process.env.TMPDIR;
    process.env.TMPDIR = processTempDir();
  }
  try {
    return await launch();
  } finally {
    if (--tmpdirRedirects === 0) {
      if (tmpdirBeforeRedirect === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = tmpdirBeforeRedirect;
    }
  }
}

function definedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

/**
 * Chromium binds its singleton socket at `$TMPDIR/org.chromium.Chromium.XXXXXX/SingletonSocket`
 * and aborts ("Socket path too long") past a Unix socket path's 107 bytes.
 */
function fitsChromiumSocketPath(tmpdir: string): boolean {
  return Buffer.byteLength(`${tmpdir}/org.chromium.Chromium.XXXXXX/SingletonSocket`) <= 107;
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
 *
 * Each browser writes below one directory of its own inside the process temp dir
 * (Playwright's artifacts and traces, and Chromium's TMPDIR, where it keeps its singleton
 * socket dir `org.chromium.Chromium.*`, left behind when Chromium is killed); the directory
 * goes when the browser goes. Its profile is in the process temp dir, removed by Playwright.
 */
export class BrowserPool {
  private browser: Browser | undefined;
  private launching: Promise<Browser> | undefined;
  private runsOnBrowser = 0;
  private active = 0;
  private closed = false;
  private readonly tracesDirs = new WeakMap<Browser, string>();
  private readonly browserDirRemovals = new Set<Promise<void>>();
  /** What workers killed outright left behind is removed as soon as a pool exists. */
  private readonly sweep: Promise<unknown> = sweepOrphanTempDirs().catch(() => []);

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
    await Promise.all(this.browserDirRemovals);
    await this.sweep;
  }

  private async launch(): Promise<Browser> {
    const { settings } = this.options;
    await this.sweep;
    const browserDir = await mkdtemp(join(processTempDir(), 'b-'));
    const removeBrowserDir = () => rm(browserDir, { recursive: true, force: true, maxRetries: 3 });
    const artifactsDir = join(browserDir, 'artifacts');
    const tracesDir = join(browserDir, 'traces');
    const chromiumTmp = [browserDir, processTempDir()].find(fitsChromiumSocketPath);
    const env = { ...definedEnv(), ...(chromiumTmp ? { TMPDIR: chromiumTmp } : {}) };
    let browser: Browser;
    try {
      await Promise.all([artifactsDir, tracesDir].map((dir) => mkdir(dir)));
      browser = await withTmpdirInProcessTempDir(() =>
        chromium.launch({
          executablePath: resolveExecutablePath(settings),
          headless: settings.headless,
          args: [...(settings.args ?? DEFAULT_CHROMIUM_ARGS), ...(this.options.extraArgs ?? [])],
          // Given explicitly, Playwright leaves these in place: removed with browserDir.
          artifactsDir,
          tracesDir,
          env,
          // Playwright's own Ctrl-C handler exits 130 at once: pathwatch's graceful stop
          // (in-flight runs stored, then the pool closed, Redis last) must run instead.
          handleSIGINT: false,
          handleSIGTERM: false,
          handleSIGHUP: false,
        }),
      );
    } catch (error) {
      await removeBrowserDir();
      throw error;
    }
    this.browser = browser;
    this.tracesDirs.set(browser, tracesDir);
    this.runsOnBrowser = 0;
    browser.on('disconnected', () => {
      if (this.browser === browser) this.browser = undefined;
      const removal: Promise<void> = removeBrowserDir()
        .catch(() => {})
        .finally(() => this.browserDirRemovals.delete(removal));
      this.browserDirRemovals.add(removal);
    });
    if (this.closed) {
      await browser.close();
      throw new Error('browser pool is closed');
    }
    return browser;
  }
}
