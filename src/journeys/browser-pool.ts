import { type Browser, chromium } from 'playwright';
import { type BrowserSettings, DEFAULT_CHROMIUM_ARGS, resolveExecutablePath } from './browser-settings.ts';

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
  }

  private async launch(): Promise<Browser> {
    const { settings } = this.options;
    const browser = await chromium.launch({
      executablePath: resolveExecutablePath(settings),
      headless: settings.headless,
      args: [...(settings.args ?? DEFAULT_CHROMIUM_ARGS), ...(this.options.extraArgs ?? [])],
    });
    this.browser = browser;
    this.runsOnBrowser = 0;
    browser.on('disconnected', () => {
      if (this.browser === browser) this.browser = undefined;
    });
    if (this.closed) {
      await browser.close();
      throw new Error('browser pool is closed');
    }
    return browser;
  }
}
