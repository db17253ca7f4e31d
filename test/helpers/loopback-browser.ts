import { type Browser, chromium } from 'playwright';
import {
  DEFAULT_BROWSER_SETTINGS,
  DEFAULT_CHROMIUM_ARGS,
  resolveExecutablePath,
} from '../../src/journeys/browser-settings.ts';

/** Keeps Chromium's own look-ups (Google's hosts) from leaving loopback in tests. */
export const LOOPBACK_ONLY_CHROMIUM_ARGS = [
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1',
];

/** Debian's Chromium as pathwatch launches it, kept to loopback: what a test opens pages in. */
export function launchLoopbackChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: resolveExecutablePath(DEFAULT_BROWSER_SETTINGS),
    args: [...DEFAULT_CHROMIUM_ARGS, ...LOOPBACK_ONLY_CHROMIUM_ARGS],
  });
}
